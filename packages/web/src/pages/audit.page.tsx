/** The hash-chained audit log: newest first, paged backwards, and verifiable end to end. */
import type { AuditEntry, AuditVerifyResult } from '@rempart/core';
import { useState } from 'react';
import { api } from '../api';
import { OutcomeBadge } from '../components/badges';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n, type Translate } from '../i18n';

const PAGE_SIZE = 100;

function verdict(result: AuditVerifyResult, t: Translate, format: (n: number) => string): string {
  if (result.ok) return t('audit.ok', { count: format(result.entries) });
  return t('audit.broken', {
    seq: result.firstBrokenSeq,
    reason: t(`audit.reason.${result.reason}`),
    count: format(result.entries),
  });
}

export function AuditPage() {
  const { t, formatDateTime, formatNumber } = useI18n();
  const first = useLoad(() => api.audit(PAGE_SIZE), []);
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [reachedStart, setReachedStart] = useState(false);
  const [verification, setVerification] = useState<AuditVerifyResult>();
  const paging = useAction();
  const verifying = useAction();

  const entries = first.data ? [...first.data.entries, ...older] : [];
  const atStart = reachedStart || (first.data !== undefined && first.data.entries.length < PAGE_SIZE);
  const lowest = entries.reduce<number | undefined>(
    (min, e) => (min === undefined || e.seq < min ? e.seq : min),
    undefined,
  );

  const loadOlder = async () => {
    if (lowest === undefined) return;
    const result = await paging.run(() => api.audit(PAGE_SIZE, lowest));
    if (!result.ok) return;
    setOlder((previous) => [...previous, ...result.value.entries]);
    if (result.value.entries.length < PAGE_SIZE) setReachedStart(true);
  };

  const verify = async () => {
    setVerification(undefined);
    const result = await verifying.run(() => api.verifyAudit());
    if (result.ok) setVerification(result.value);
  };

  return (
    <Page title={t('audit.title')} lead={t('audit.intro')} wide>
      <div className="toolbar">
        <button type="button" className="button" disabled={verifying.busy} onClick={() => void verify()}>
          {t('audit.verify')}
        </button>
      </div>
      <StatusMessage
        tone={verification?.ok ? 'success' : 'info'}
        message={
          verifying.busy
            ? t('audit.verifying')
            : verification?.ok === false
              ? undefined
              : verification && verdict(verification, t, formatNumber)
        }
      />
      {verification?.ok === false ? (
        <p className="message message-error" role="alert">
          {verdict(verification, t, formatNumber)}
        </p>
      ) : null}
      <ErrorMessage error={verifying.error ?? first.error ?? paging.error} />

      {first.data ? (
        entries.length === 0 ? (
          <p className="empty">{t('audit.empty')}</p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table table-audit">
                <thead>
                  <tr>
                    <th scope="col" className="cell-number">
                      {t('audit.seq')}
                    </th>
                    <th scope="col">{t('audit.time')}</th>
                    <th scope="col">{t('audit.actor')}</th>
                    <th scope="col">{t('audit.action')}</th>
                    <th scope="col">{t('audit.outcome')}</th>
                    <th scope="col">{t('audit.target')}</th>
                    <th scope="col">{t('audit.ip')}</th>
                    <th scope="col">{t('audit.details')}</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((entry) => (
                    <tr
                      key={entry.seq}
                      className={
                        verification?.ok === false && verification.firstBrokenSeq === entry.seq
                          ? 'row-broken'
                          : undefined
                      }
                    >
                      <th scope="row" className="cell-number">
                        {entry.seq}
                      </th>
                      <td>
                        <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
                      </td>
                      <td>{entry.actor ?? <span className="muted">{t('audit.system')}</span>}</td>
                      <td>
                        <code>{entry.action}</code>
                      </td>
                      <td>
                        <OutcomeBadge outcome={entry.outcome} />
                      </td>
                      <td className="cell-break">{entry.targetId ?? t('common.none')}</td>
                      <td>{entry.ip === null ? t('common.none') : <code>{entry.ip}</code>}</td>
                      <td className="cell-break">
                        {Object.keys(entry.details).length === 0 ? (
                          t('common.none')
                        ) : (
                          <code className="json">{JSON.stringify(entry.details)}</code>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted">{t('audit.showing', { count: formatNumber(entries.length) })}</p>
            {atStart ? (
              <p className="muted">{t('audit.start')}</p>
            ) : (
              <button
                type="button"
                className="button"
                disabled={paging.busy}
                onClick={() => void loadOlder()}
              >
                {t('audit.older')}
              </button>
            )}
          </>
        )
      ) : (
        <StatusMessage message={first.loading ? t('app.loading') : undefined} />
      )}
    </Page>
  );
}
