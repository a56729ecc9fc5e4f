import type { WatchStatusView } from '@rempart/core';
import { Fragment } from 'react';
import { useI18n, type MessageKey } from '../../i18n';
import { countsByName, receiverRows } from '../../serverwatch/format';
import { ResponseModeBadge } from './badges';

/** A count that is trouble when it is not 0: marked, in words too. */
function Trouble({ value }: { value: number }) {
  const { t, formatNumber } = useI18n();
  return (
    <dd className={value > 0 ? 'fact-number fact-trouble' : 'fact-number'}>
      {formatNumber(value)}
      {value > 0 ? <span className="visually-hidden"> ({t('watch.status.trouble')})</span> : null}
    </dd>
  );
}

function Totals({ status }: { status: WatchStatusView }) {
  const { t, formatNumber } = useI18n();
  const tiles: { key: string; label: MessageKey; value: number; note?: string }[] = [
    { key: 'received', label: 'watch.status.received', value: status.events.received },
    {
      key: 'unparsed',
      label: 'watch.status.unparsed',
      value: status.events.unparsed,
      note: t('watch.status.unparsedNote'),
    },
    { key: 'stored', label: 'watch.status.stored', value: status.events.stored },
    {
      key: 'rules',
      label: 'watch.status.rules',
      value: status.rules.detection + status.rules.correlation,
      note: t('watch.status.rulesNote', {
        detection: formatNumber(status.rules.detection),
        correlation: formatNumber(status.rules.correlation),
      }),
    },
    {
      key: 'hits',
      label: 'watch.status.hits',
      value: status.hits.total,
      note: t('watch.status.hitsNote', {
        alerts: formatNumber(status.hits.alerts),
        merged: formatNumber(status.hits.merged),
      }),
    },
  ];
  return (
    <dl className="stat-tiles" data-testid="watch-totals">
      {tiles.map((tile) => (
        <div key={tile.key} className={`stat-tile watch-stat-${tile.key}`}>
          <dt>{t(tile.label)}</dt>
          <dd>
            <span className="stat-value">{formatNumber(tile.value)}</span>
            {tile.note === undefined ? null : <span className="stat-note">{tile.note}</span>}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Receivers({ status }: { status: WatchStatusView }) {
  const { t, formatNumber } = useI18n();
  const rows = receiverRows(status);
  return (
    <dl className="facts" data-testid="watch-receivers">
      <dt>{t('watch.status.syslog')}</dt>
      <dd>
        {status.syslog === null ? (
          t('watch.status.off')
        ) : (
          <>
            {t('watch.status.syslogPort', { port: status.syslog.port })}
            {status.syslog.tlsPort === undefined
              ? null
              : ` · ${t('watch.status.syslogTlsPort', { port: status.syslog.tlsPort })}`}
          </>
        )}
      </dd>
      {rows.map((row) => (
        <Fragment key={row.key}>
          <dt>
            {row.key.startsWith('syslog-') ? (
              t('watch.status.transport', { transport: row.name.toUpperCase() })
            ) : (
              <code>{row.name}</code>
            )}
          </dt>
          <dd className="fact-number">{formatNumber(row.count)}</dd>
        </Fragment>
      ))}
      {status.files
        .filter((file) => file.waiting)
        .map((file) => (
          <Fragment key={`waiting-${file.path}`}>
            <dt>
              <code>{file.path}</code>
            </dt>
            <dd className="fact-trouble">{t('watch.status.fileWaiting')}</dd>
          </Fragment>
        ))}
      {status.syslog === null ? null : (
        <>
          <dt>{t('watch.status.truncated')}</dt>
          <Trouble value={status.syslog.truncated} />
        </>
      )}
      <dt>{t('watch.status.httpIngest')}</dt>
      <dd>{status.httpIngest ? t('watch.status.on') : t('watch.status.off')}</dd>
    </dl>
  );
}

function Queue({ status }: { status: WatchStatusView }) {
  const { t, formatNumber } = useI18n();
  const { queue } = status;
  const reasons = countsByName(queue.dropped.byReason);
  const sources = countsByName(queue.dropped.bySource);
  return (
    <dl className="facts" data-testid="watch-queue">
      <dt>{t('watch.status.depth')}</dt>
      <dd className="fact-number">
        {t('watch.status.depthOf', {
          depth: formatNumber(queue.depth),
          capacity: formatNumber(queue.capacity),
        })}
      </dd>
      <dt>{t('watch.status.highWater')}</dt>
      <dd className="fact-number">{formatNumber(queue.highWater)}</dd>
      <dt>{t('watch.status.accepted')}</dt>
      <dd className="fact-number">{formatNumber(queue.accepted)}</dd>
      <dt>{t('watch.status.refused')}</dt>
      <dd className="fact-number">{formatNumber(queue.refused)}</dd>
      <dt>{t('watch.status.dropped')}</dt>
      <Trouble value={queue.dropped.total} />
      {reasons.map((reason) => (
        <Fragment key={`reason-${reason.name}`}>
          <dt className="fact-sub">{t('watch.status.droppedBecause', { reason: reason.name })}</dt>
          <dd className="fact-number">{formatNumber(reason.count)}</dd>
        </Fragment>
      ))}
      {sources.map((source) => (
        <Fragment key={`source-${source.name}`}>
          <dt className="fact-sub">{t('watch.status.droppedFrom', { source: source.name })}</dt>
          <dd className="fact-number">{formatNumber(source.count)}</dd>
        </Fragment>
      ))}
      <dt>{t('watch.status.failedBatches')}</dt>
      <Trouble value={status.events.failedBatches} />
    </dl>
  );
}

function Responses({ status }: { status: WatchStatusView }) {
  const { t, formatNumber } = useI18n();
  return (
    <>
      <dl className="facts" data-testid="watch-responses">
        <dt>{t('watch.status.blockMode')}</dt>
        <dd>
          <ResponseModeBadge mode={status.responses.block} />
        </dd>
        <dt>{t('watch.status.webhook')}</dt>
        <dd>{status.responses.webhook ? t('watch.status.on') : t('watch.status.off')}</dd>
        <dt>{t('watch.status.suppressed')}</dt>
        <dd className="fact-number">{formatNumber(status.hits.suppressed)}</dd>
      </dl>
      {status.responses.block === 'dry-run' ? (
        <p className="field-hint watch-dry-run-hint">{t('watch.status.dryRunHint')}</p>
      ) : null}
    </>
  );
}

function SkippedRules({ skipped }: { skipped: WatchStatusView['rules']['skipped'] }) {
  const { t, formatNumber } = useI18n();
  if (skipped.length === 0) return <p className="muted">{t('watch.status.noneSkipped')}</p>;
  return (
    <details className="watch-skipped">
      <summary>{t('watch.status.skipped', { count: formatNumber(skipped.length) })}</summary>
      <div className="table-wrap">
        <table className="table" data-testid="watch-skipped">
          <thead>
            <tr>
              <th scope="col">{t('watch.rule')}</th>
              <th scope="col">{t('watch.status.file')}</th>
              <th scope="col">{t('watch.status.unsupported')}</th>
            </tr>
          </thead>
          <tbody>
            {skipped.map((rule) => (
              <tr key={`${rule.file}:${rule.title}`}>
                <th scope="row">{rule.title}</th>
                <td className="cell-break">
                  <code>{rule.file}</code>
                </td>
                <td>
                  <ul className="plain-list">
                    {rule.unsupported.map((what) => (
                      <li key={what}>
                        <code>{what}</code>
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Everything the watch says about itself: what it received, holds, runs and answers with. */
export function StatusView({ status }: { status: WatchStatusView }) {
  const { t } = useI18n();
  return (
    <>
      {status.running ? null : (
        <p className="message message-error" data-testid="watch-not-running">
          {t('watch.status.notRunning')}
        </p>
      )}
      <h2 className="watch-status-title">{t('watch.status.title')}</h2>
      <Totals status={status} />
      <div className="grid-2">
        <section className="card" aria-labelledby="watch-receivers-title">
          <h2 id="watch-receivers-title">{t('watch.status.receiversTitle')}</h2>
          <p className="muted">{t('watch.status.receiversIntro')}</p>
          <Receivers status={status} />
        </section>
        <section className="card" aria-labelledby="watch-queue-title">
          <h2 id="watch-queue-title">{t('watch.status.queueTitle')}</h2>
          <p className="muted">{t('watch.status.queueIntro')}</p>
          <Queue status={status} />
        </section>
        <section className="card" aria-labelledby="watch-responses-title">
          <h2 id="watch-responses-title">{t('watch.status.responsesTitle')}</h2>
          <Responses status={status} />
        </section>
        <section className="card" aria-labelledby="watch-rules-title">
          <h2 id="watch-rules-title">{t('watch.status.rulesTitle')}</h2>
          <p>
            {t('watch.status.rulesLoaded', {
              detection: status.rules.detection,
              correlation: status.rules.correlation,
            })}
          </p>
          <SkippedRules skipped={status.rules.skipped} />
        </section>
      </div>
    </>
  );
}
