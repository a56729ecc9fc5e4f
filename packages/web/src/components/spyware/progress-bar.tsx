import { useId } from 'react';
import { useI18n } from '../../i18n';
import { percentOf } from '../../spyware/scans';

/**
 * A labelled progress bar with its figure in words beside it. Without a fraction the bar is
 * indeterminate (a native `<progress>` without a value), which assistive technologies announce
 * as busy rather than as 0 %.
 */
export function ProgressBar({
  label,
  fraction,
  detail,
  testId,
}: {
  label: string;
  fraction: number | undefined;
  detail?: string;
  testId?: string;
}) {
  const { t } = useI18n();
  const id = useId();
  const percent = fraction === undefined ? undefined : percentOf(fraction);
  return (
    <div className="spyware-progress" data-testid={testId}>
      <label htmlFor={id}>{label}</label>
      {percent === undefined ? (
        <progress id={id} />
      ) : (
        <progress id={id} max={100} value={percent}>
          {t('spyware.percent', { percent })}
        </progress>
      )}
      <span aria-live="polite">
        {percent === undefined ? null : t('spyware.percent', { percent })}
        {detail === undefined ? null : ` · ${detail}`}
      </span>
    </div>
  );
}
