/**
 * Live regions for status and errors. The region element is always in the page, so assistive
 * technologies announce a message when its text appears (WAI-ARIA 1.2 §6.3.5 live regions).
 */
import { errorMessage, isSilent } from '../errors';
import { useI18n } from '../i18n';

export function StatusMessage({
  message,
  tone = 'info',
}: {
  message: string | undefined;
  tone?: 'info' | 'success';
}) {
  return (
    <div
      role="status"
      aria-live="polite"
      aria-atomic="true"
      className={message ? `message message-${tone}` : 'message-empty'}
    >
      {message}
    </div>
  );
}

export function ErrorMessage({ error, id }: { error: unknown; id?: string }) {
  const { t } = useI18n();
  const message = error === undefined || isSilent(error) ? undefined : errorMessage(error, t);
  return (
    <div
      id={id}
      role="alert"
      aria-atomic="true"
      className={message ? 'message message-error' : 'message-empty'}
    >
      {message}
    </div>
  );
}
