import { useMemo } from 'react';
import { useI18n } from '../../i18n';

/**
 * An event's time to the second, in the reader's language: the lines of one minute are told
 * apart by their seconds, which the console's usual date and time leave out.
 */
export function useEventTime(): (iso: string) => string {
  const { language } = useI18n();
  return useMemo(() => {
    const format = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' });
    return (iso: string) => {
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? iso : format.format(date);
    };
  }, [language]);
}
