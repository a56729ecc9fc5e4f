import type { Scan } from '@rempart/core';
import { useState } from 'react';
import { api } from '../../api';
import { useAction } from '../../hooks';
import { useI18n } from '../../i18n';
import { ErrorMessage } from '../messages';

/**
 * A request to check the owner's own device, as the owner sees it: who asks, why, what will be
 * read and who will see it; then "I consent" or "I refuse". Nothing is read without a yes.
 */
export function ConsentRequest({ scan, onChange }: { scan: Scan; onChange: (scan: Scan) => void }) {
  const { t, formatDateTime } = useI18n();
  const action = useAction();
  const [answer, setAnswer] = useState<'consent' | 'refuse'>();
  const headingId = `consent-request-${scan.id}`;

  const reply = async (choice: 'consent' | 'refuse') => {
    setAnswer(choice);
    const result = await action.run(() =>
      choice === 'consent' ? api.spyware.consent(scan.id) : api.spyware.withdraw(scan.id),
    );
    if (result.ok) onChange(result.value);
  };

  return (
    <section className="consent-box" aria-labelledby={headingId} data-testid="spyware-consent-request">
      <h3 id={headingId}>
        {t('spyware.consentRequest.title', { who: scan.requestedBy, device: scan.device.name })}
      </h3>
      <p className="details">
        {t('spyware.consentRequest.asked', {
          at: formatDateTime(scan.requestedAt),
          kind: t(`spyware.kind.${scan.kind}`),
        })}
      </p>
      <p>{t('spyware.consentRequest.purpose')}</p>
      <blockquote className="consent-purpose">{scan.purpose}</blockquote>
      <p>{t('spyware.consentRequest.explain')}</p>
      <ErrorMessage error={action.error} />
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          disabled={action.busy}
          onClick={() => void reply('consent')}
        >
          {action.busy && answer === 'consent'
            ? t('spyware.consentRequest.sending')
            : t('spyware.consentRequest.consent')}
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={action.busy}
          onClick={() => void reply('refuse')}
        >
          {action.busy && answer === 'refuse'
            ? t('spyware.consentRequest.sending')
            : t('spyware.consentRequest.refuse')}
        </button>
      </div>
    </section>
  );
}

/** The owner may take back a consent until the artifact is read. */
export function WithdrawConsent({ scan, onChange }: { scan: Scan; onChange: (scan: Scan) => void }) {
  const { t } = useI18n();
  const action = useAction();
  return (
    <div>
      <p className="field-hint">{t('spyware.withdraw.hint')}</p>
      <ErrorMessage error={action.error} />
      <button
        type="button"
        className="button button-danger button-small"
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            onChange(await api.spyware.withdraw(scan.id));
          })
        }
      >
        {t('spyware.withdraw.submit')}
      </button>
    </div>
  );
}
