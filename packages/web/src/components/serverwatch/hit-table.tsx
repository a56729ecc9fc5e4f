import type { Alert, WatchHitView } from '@rempart/core';
import { Fragment, useState } from 'react';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { alertEvents, fieldText } from '../../serverwatch/format';
import { groupSearch, searchHref } from '../../serverwatch/query';
import { severityOfLevel, type WatchWindow } from '../../serverwatch/timeline';
import { LevelBadge } from './badges';
import { useEventTime } from './event-time';
import { FieldsList } from './fields-list';

/** The alerts the page read, by id, to show the events a hit's alert carries. */
export interface HitAlerts {
  byId: ReadonlyMap<string, Alert> | undefined;
  loading: boolean;
}

function Group({ group }: { group: WatchHitView['group'] }) {
  const { t } = useI18n();
  if (group === null || Object.keys(group).length === 0)
    return <span className="muted">{t('common.none')}</span>;
  return (
    <ul className="plain-list">
      {Object.entries(group).map(([name, value]) => (
        <li key={name}>
          <code>{name}</code> <code>{fieldText(value) ?? t('common.none')}</code>
        </li>
      ))}
    </ul>
  );
}

/** What a hit opens onto: its rule file, its stored events, and the events its alert carries. */
export function HitDetail({
  hit,
  alerts,
  hours,
}: {
  hit: WatchHitView;
  alerts: HitAlerts;
  hours: WatchWindow;
}) {
  const { t, formatNumber } = useI18n();
  const when = useEventTime();
  const alert = hit.alertId === null ? undefined : alerts.byId?.get(hit.alertId);
  const events = alert === undefined ? [] : alertEvents(alert);
  const search = groupSearch(hit.group);
  return (
    <>
      <dl className="facts watch-hit-facts">
        <dt>{t('watch.hit.file')}</dt>
        <dd>
          <code>{hit.rule.file}</code>
        </dd>
        <dt>{t('watch.kind')}</dt>
        <dd>{t(`watch.kind.${hit.rule.kind}`)}</dd>
        {hit.value === null ? null : (
          <>
            <dt>{t('watch.hit.value')}</dt>
            <dd className="fact-number">{formatNumber(hit.value)}</dd>
          </>
        )}
        <dt>{t('watch.hit.eventIds')}</dt>
        <dd>
          {hit.eventIds.length === 0 ? (
            t('common.none')
          ) : (
            <code className="watch-ids">{hit.eventIds.join(' ')}</code>
          )}
        </dd>
      </dl>
      {search === undefined ? null : (
        <p>
          <Link to={searchHref({ q: search, hours })}>{t('watch.hit.searchGroup', { query: search })}</Link>
        </p>
      )}
      {hit.alertId === null ? (
        <p className="muted">{t('watch.hit.noAlert')}</p>
      ) : alerts.loading && alert === undefined ? (
        <p className="muted">{t('app.loading')}</p>
      ) : alert === undefined ? (
        <p className="muted">{t('watch.hit.alertGone')}</p>
      ) : events.length === 0 ? (
        <p className="muted">{t('watch.hit.noEvents')}</p>
      ) : (
        <>
          <h3 className="watch-hit-events-title">
            {t('watch.hit.events', { count: formatNumber(events.length) })}
          </h3>
          <ol className="watch-hit-events">
            {events.map((event, index) => (
              <li key={`${event.at}-${index}`}>
                <time dateTime={event.at}>{when(event.at)}</time>
                <pre className="watch-raw">{event.raw}</pre>
                <details className="watch-all-fields">
                  <summary>{t('watch.event.fields')}</summary>
                  <FieldsList fields={event.fields} />
                </details>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

/**
 * Hits, newest first: when, which rule, its level, the correlation's group and how many merged
 * duplicates; each opens onto its events. `onOpen` runs the first time a hit with an alert is
 * opened, so the page reads the alerts only when someone wants their events.
 */
export function HitTable({
  hits,
  alerts,
  hours,
  onOpen,
}: {
  hits: readonly WatchHitView[];
  alerts: HitAlerts;
  hours: WatchWindow;
  onOpen: (hit: WatchHitView) => void;
}) {
  const { t, formatDateTime, formatNumber } = useI18n();
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (hit: WatchHitView) => {
    if (!open.has(hit.id)) onOpen(hit);
    setOpen((previous) => {
      const next = new Set(previous);
      if (next.has(hit.id)) next.delete(hit.id);
      else next.add(hit.id);
      return next;
    });
  };

  return (
    <div className="table-wrap">
      <table className="table table-alerts" data-testid="watch-hits">
        <thead>
          <tr>
            <th scope="col">{t('watch.hit.time')}</th>
            <th scope="col">{t('watch.rule')}</th>
            <th scope="col">{t('watch.level')}</th>
            <th scope="col">{t('watch.hit.group')}</th>
            <th scope="col" className="cell-number">
              {t('watch.hit.count')}
            </th>
            <th scope="col">
              <span className="visually-hidden">{t('watch.hit.eventsColumn')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {hits.map((hit) => {
            const shown = open.has(hit.id);
            const detailId = `watch-hit-${hit.id}`;
            return (
              <Fragment key={hit.id}>
                <tr className={`row-severity-${severityOfLevel(hit.rule.level)}`}>
                  <td>
                    <time dateTime={hit.at}>{formatDateTime(hit.at)}</time>
                  </td>
                  <th scope="row" className="cell-title">
                    {hit.rule.title}
                  </th>
                  <td>
                    <LevelBadge level={hit.rule.level} />
                  </td>
                  <td>
                    <Group group={hit.group} />
                  </td>
                  <td className="cell-number">{formatNumber(hit.count)}</td>
                  <td>
                    <button
                      type="button"
                      className="button button-small button-quiet"
                      aria-expanded={shown}
                      aria-controls={detailId}
                      onClick={() => toggle(hit)}
                    >
                      {shown ? t('watch.hit.hide') : t('watch.hit.show')}
                      <span className="visually-hidden">
                        {' '}
                        ({hit.rule.title}, {formatDateTime(hit.at)})
                      </span>
                    </button>
                  </td>
                </tr>
                <tr id={detailId} className="watch-hit-detail" hidden={!shown}>
                  <td colSpan={6}>{shown ? <HitDetail hit={hit} alerts={alerts} hours={hours} /> : null}</td>
                </tr>
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
