/**
 * One scan of a device: why it was asked and by whom, the consent record, and then, by its state,
 * what comes next (the owner's answer, the signed form, the artifact, the reading under way) or
 * what it found: the detections, what the artifacts say of the device, each artifact's state,
 * the report, and the timeline.
 */
import type { Scan } from '@rempart/core';
import { Fragment, useState } from 'react';
import { api } from '../../api';
import { useI18n } from '../../i18n';
import { deviceFacts, isDeviceFactKey, nextStep } from '../../spyware/scans';
import { ArtifactsTable } from './artifacts-table';
import { MalwareList, ScanStatusBadge, VerdictBadge } from './badges';
import { ConsentRecord } from './consent-record';
import { ConsentRequest, WithdrawConsent } from './consent-request';
import { DetectionsTable } from './detections-table';
import { ArtifactUpload, ConsentFormUpload, ScanProgress } from './scan-actions';
import { TimelineView } from './timeline-view';
import { useScanPolling } from './use-scan';

export function ScanCard({
  scan,
  admin,
  owner,
  latest,
  onChange,
}: {
  scan: Scan;
  /** The reader administers the check: they attach forms and send artifacts. */
  admin: boolean;
  /** The reader owns the device: they answer the request. */
  owner: boolean;
  /** The device's latest scan: its findings are open, its timeline one click away. */
  latest: boolean;
  onChange: (scan: Scan) => void;
}) {
  const { t, formatDateTime, formatNumber } = useI18n();
  const [timeline, setTimeline] = useState(false);
  useScanPolling(scan, onChange);
  const step = nextStep(scan);
  const headingId = `scan-${scan.id}`;
  const tone =
    scan.verdict === 'infected'
      ? 'card card-infected'
      : scan.verdict === 'clean'
        ? 'card card-clean'
        : step === 'consent' || step === 'upload'
          ? 'card card-waiting'
          : 'card';
  const facts = deviceFacts(scan.deviceInfo);

  return (
    <section
      className={tone}
      aria-labelledby={headingId}
      data-testid="spyware-scan"
      data-scan-status={scan.status}
    >
      <div className="card-head">
        <h2 id={headingId}>
          {t(`spyware.kind.${scan.kind}`)} · {formatDateTime(scan.requestedAt)}
        </h2>
        <span>
          <ScanStatusBadge status={scan.status} />{' '}
          {scan.verdict === null ? null : <VerdictBadge verdict={scan.verdict} />}
        </span>
      </div>
      <dl className="facts">
        <dt>{t('spyware.scan.purpose')}</dt>
        <dd className="consent-purpose">{scan.purpose}</dd>
        <dt>{t('spyware.scan.requestedBy')}</dt>
        <dd>
          {t('spyware.scan.requestedByAt', { who: scan.requestedBy, at: formatDateTime(scan.requestedAt) })}
        </dd>
        <dt>{t('spyware.scan.consent')}</dt>
        <dd>
          <ConsentRecord scanId={scan.id} consent={scan.consent} />
        </dd>
        {scan.finishedAt === null ? null : (
          <>
            <dt>{t('spyware.scan.finished')}</dt>
            <dd>
              <time dateTime={scan.finishedAt}>{formatDateTime(scan.finishedAt)}</time>
            </dd>
          </>
        )}
        {scan.indicators === null ? null : (
          <>
            <dt>{t('spyware.scan.indicators')}</dt>
            <dd>
              {t('spyware.scan.indicatorsFrom', {
                count: formatNumber(scan.indicators.count),
                sources: scan.indicators.sources.join(', '),
              })}
            </dd>
          </>
        )}
        {scan.malware.length === 0 ? null : (
          <>
            <dt>{t('spyware.scan.malware')}</dt>
            <dd>
              <MalwareList malware={scan.malware} />
            </dd>
          </>
        )}
      </dl>

      {scan.error === null ? null : (
        <p className="message message-error" data-testid="spyware-scan-error">
          {t('spyware.scan.error', { error: scan.error })}
        </p>
      )}

      {step === 'consent' && owner ? <ConsentRequest scan={scan} onChange={onChange} /> : null}
      {step === 'consent' && !owner ? (
        <p className="message message-info">
          {t('spyware.scan.waitingForConsent', { owner: scan.device.owner })}
        </p>
      ) : null}
      {step === 'consent' && admin ? (
        <details className="list-problems-toggle">
          <summary>{t('spyware.consentForm.title')}</summary>
          <ConsentFormUpload scan={scan} onChange={onChange} />
        </details>
      ) : null}
      {step === 'upload' && admin ? (
        <>
          <h3>{t('spyware.upload.title')}</h3>
          <ArtifactUpload scan={scan} onChange={onChange} />
        </>
      ) : null}
      {step === 'upload' && !admin ? <p className="message message-info">{t('spyware.scan.ready')}</p> : null}
      {step === 'upload' && owner && scan.status === 'ready' ? (
        <WithdrawConsent scan={scan} onChange={onChange} />
      ) : null}
      {step === 'scanning' ? <ScanProgress scan={scan} /> : null}
      {step === 'withdrawn' ? <p className="muted">{t('spyware.scan.withdrawn')}</p> : null}

      {step === 'finished' ? (
        <>
          {scan.verdict === 'infected' ? (
            <p className="message message-error" data-testid="spyware-verdict">
              {t('spyware.scan.infected', {
                count: formatNumber(scan.detections.length),
                malware: scan.malware.join(', ') || t('spyware.noMalware'),
              })}
            </p>
          ) : scan.verdict === 'clean' ? (
            <p className="message message-success" data-testid="spyware-verdict">
              {t('spyware.scan.clean')}
            </p>
          ) : null}
          <DetectionsTable
            events={scan.detections}
            caption={t('spyware.scan.detections')}
            testId="spyware-detections"
          />
          {facts.length === 0 ? null : (
            <details className="list-problems-toggle" open={latest}>
              <summary>{t('spyware.scan.deviceInfo')}</summary>
              <dl className="facts">
                {facts.map(([key, value]) => (
                  <Fragment key={key}>
                    <dt>{isDeviceFactKey(key) ? t(`spyware.fact.${key}`) : key}</dt>
                    <dd>{value}</dd>
                  </Fragment>
                ))}
              </dl>
            </details>
          )}
          <ArtifactsTable artifacts={scan.artifacts} />
          <div className="actions">
            <a className="button" href={api.spyware.reportUrl(scan.id)} download>
              {t('spyware.scan.report')}
            </a>
            {admin && scan.rawPurgedAt === null ? (
              <button
                type="button"
                className="button"
                aria-expanded={timeline}
                onClick={() => setTimeline(!timeline)}
              >
                {timeline
                  ? t('spyware.scan.hideTimeline')
                  : t('spyware.scan.showTimeline', { count: formatNumber(scan.timelineCount) })}
              </button>
            ) : null}
          </div>
          {timeline || (admin && scan.rawPurgedAt !== null) ? <TimelineView scan={scan} /> : null}
        </>
      ) : null}
    </section>
  );
}
