import { useI18n } from '../i18n';

/** A moment in the reader's language, machine-readable too; a dash when there is none. */
export function When({ iso }: { iso: string | null }) {
  const { t, formatDateTime } = useI18n();
  if (iso === null) return <>{t('common.none')}</>;
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}
