import type { Consent } from '@rempart/core';
import { api } from '../../api';
import { useI18n } from '../../i18n';
import { consentRecord } from '../../spyware/scans';

/**
 * Who consented and when, plainly: the owner in the console, or the signed form an administrator
 * attached, with its SHA-256 and a link to the form itself.
 */
export function ConsentRecord({ scanId, consent }: { scanId: string; consent: Consent | null }) {
  const { t, formatDateTime } = useI18n();
  const record = consentRecord(consent);
  switch (record.kind) {
    case 'none':
      return <span className="muted">{t('spyware.consent.none')}</span>;
    case 'agent':
      return (
        <span data-testid="spyware-consent">
          {t('spyware.consent.byAgent', { who: record.who, at: formatDateTime(record.at) })}
        </span>
      );
    case 'form':
      return (
        <span data-testid="spyware-consent">
          {t('spyware.consent.byForm', { who: record.who, at: formatDateTime(record.at) })}{' '}
          <a href={api.spyware.consentFormUrl(scanId)} download={record.fileName}>
            {record.fileName}
          </a>
          <br />
          <span className="details">
            SHA-256 <span className="hash">{record.sha256}</span>
          </span>
        </span>
      );
  }
}
