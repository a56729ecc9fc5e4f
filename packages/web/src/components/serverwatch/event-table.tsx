import type { WatchEventView } from '@rempart/core';
import { Fragment, useState } from 'react';
import { useI18n } from '../../i18n';
import { eventKeyFields, keyFields } from '../../serverwatch/format';
import { useEventTime } from './event-time';
import { FieldsList } from './fields-list';

/**
 * Stored events, newest first: time, receiver, format, host and the key fields in columns; each
 * row opens onto its raw line and every field. Lines no parser understood are marked, in words.
 */
export function EventTable({ events }: { events: readonly WatchEventView[] }) {
  const { t } = useI18n();
  const when = useEventTime();
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const columns = 5 + keyFields.length;

  return (
    <div className="table-wrap">
      <table className="table watch-events" data-testid="watch-events">
        <caption className="visually-hidden">{t('watch.search.results')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('watch.event.time')}</th>
            <th scope="col">{t('watch.event.source')}</th>
            <th scope="col">{t('watch.event.format')}</th>
            <th scope="col">{t('watch.event.host')}</th>
            {keyFields.map((field) => (
              <th key={field} scope="col">
                <code>{field}</code>
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">{t('watch.event.line')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const shown = open.has(event.id);
            const fields = eventKeyFields(event);
            const detailId = `watch-event-${event.id}`;
            return (
              <Fragment key={event.id}>
                <tr className={event.parsed ? undefined : 'watch-unparsed'}>
                  <td className="cell-nowrap">
                    <time dateTime={event.at}>{when(event.at)}</time>
                  </td>
                  <td className="cell-nowrap">
                    <code>{event.source}</code>
                  </td>
                  <td>
                    {event.parsed ? (
                      <code>{event.format}</code>
                    ) : (
                      <span className="badge watch-unparsed-badge">{t('watch.event.unparsed')}</span>
                    )}
                  </td>
                  <td className="cell-break">{event.host ?? t('common.none')}</td>
                  {keyFields.map((field) => (
                    <td key={field} className={field === 'user' ? 'cell-break' : 'cell-nowrap'}>
                      {fields[field] === undefined ? (
                        <span className="muted">{t('common.none')}</span>
                      ) : (
                        <code>{fields[field]}</code>
                      )}
                    </td>
                  ))}
                  <td className="cell-nowrap">
                    <button
                      type="button"
                      className="button button-small button-quiet"
                      aria-expanded={shown}
                      aria-controls={detailId}
                      onClick={() => toggle(event.id)}
                    >
                      {shown ? t('watch.event.hideLine') : t('watch.event.showLine')}
                      <span className="visually-hidden"> ({when(event.at)})</span>
                    </button>
                  </td>
                </tr>
                <tr id={detailId} className="watch-event-detail" hidden={!shown}>
                  <td colSpan={columns}>
                    <pre className="watch-raw" data-testid="watch-raw">
                      {event.raw}
                    </pre>
                    <FieldsList fields={event.fields} />
                  </td>
                </tr>
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
