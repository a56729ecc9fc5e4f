import { useI18n, type MessageKey } from '../../i18n';
import { isWatchWindow, watchWindows, type WatchWindow } from '../../serverwatch/timeline';
import { RadioGroupField } from '../netguard/fields';

const labels: Readonly<Record<WatchWindow, MessageKey>> = {
  1: 'watch.window.1',
  24: 'watch.window.24',
  168: 'watch.window.168',
  720: 'watch.window.720',
};

/** The period a page looks back over: the last hour, day, week or 30 days. */
export function WindowField({
  name,
  value,
  disabled = false,
  onChange,
}: {
  name: string;
  value: WatchWindow;
  disabled?: boolean;
  onChange: (value: WatchWindow) => void;
}) {
  const { t } = useI18n();
  return (
    <RadioGroupField
      name={name}
      legend={t('watch.window')}
      className="choice-inline"
      disabled={disabled}
      options={watchWindows.map((hours) => ({ value: String(hours), label: t(labels[hours]) }))}
      value={String(value)}
      onChange={(next) => {
        const hours = Number(next);
        if (isWatchWindow(hours)) onChange(hours);
      }}
    />
  );
}
