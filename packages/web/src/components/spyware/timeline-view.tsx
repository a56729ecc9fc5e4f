import type { Scan } from '@rempart/core';
import { useState } from 'react';
import { api } from '../../api';
import { useLoad } from '../../hooks';
import { useI18n } from '../../i18n';
import {
  TIMELINE_PAGE_SIZES,
  artifactChoices,
  clampView,
  initialTimelineView,
  nextPage,
  pageInfo,
  previousPage,
  timelineSearch,
  withFilter,
  type TimelineView,
} from '../../spyware/timeline';
import { CheckboxField, SelectField } from '../fields';
import { ErrorMessage, StatusMessage } from '../messages';

/**
 * Every record a scan read, a page at a time, oldest first: all of them or the detections only,
 * of every artifact or of one. Once the raw records are purged only the findings remain.
 */
export function TimelineView({ scan }: { scan: Scan }) {
  const { t, formatNumber, formatDateTime } = useI18n();
  const [view, setView] = useState<TimelineView>(() => initialTimelineView(scan.detections.length));
  const search = timelineSearch(view);
  const loaded = useLoad(() => api.spyware.timeline(scan.id, search), [scan.id, search]);
  const page = loaded.data;
  const total = page?.total ?? 0;
  const info = pageInfo(view, total);
  const choices = artifactChoices(scan.artifacts);

  if (scan.rawPurgedAt !== null)
    return <p className="muted">{t('spyware.timeline.purged', { at: formatDateTime(scan.rawPurgedAt) })}</p>;

  return (
    <section aria-labelledby={`timeline-${scan.id}`}>
      <h3 id={`timeline-${scan.id}`}>{t('spyware.timeline.title')}</h3>
      {scan.rawKeptUntil === null ? null : (
        <p className="field-hint">
          {t('spyware.timeline.keptUntil', { at: formatDateTime(scan.rawKeptUntil) })}
        </p>
      )}
      <div className="toolbar">
        <CheckboxField
          id={`timeline-${scan.id}-only`}
          label={t('spyware.timeline.detectionsOnly')}
          checked={view.detections === 'only'}
          onChange={(event) =>
            setView(withFilter(view, { detections: event.target.checked ? 'only' : 'all' }))
          }
        />
        <SelectField
          id={`timeline-${scan.id}-artifact`}
          label={t('spyware.timeline.artifact')}
          value={view.artifact}
          onChange={(event) => setView(withFilter(view, { artifact: event.target.value }))}
        >
          <option value="">{t('spyware.timeline.everyArtifact')}</option>
          {choices.map((artifact) => (
            <option key={artifact} value={artifact}>
              {artifact}
            </option>
          ))}
        </SelectField>
        <SelectField
          id={`timeline-${scan.id}-size`}
          label={t('spyware.timeline.pageSize')}
          value={String(view.limit)}
          onChange={(event) => setView(withFilter(view, { limit: Number(event.target.value) }))}
        >
          {TIMELINE_PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {formatNumber(size)}
            </option>
          ))}
        </SelectField>
      </div>
      <ErrorMessage error={loaded.error} />
      <StatusMessage
        message={
          loaded.loading
            ? t('app.loading')
            : page === undefined
              ? undefined
              : t('spyware.timeline.range', {
                  from: formatNumber(info.from),
                  to: formatNumber(info.to),
                  total: formatNumber(total),
                })
        }
      />
      {page === undefined ? null : page.events.length === 0 ? (
        <p className="empty">{t('spyware.timeline.empty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="spyware-timeline">
            <caption className="visually-hidden">{t('spyware.timeline.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('spyware.detection.at')}</th>
                <th scope="col">{t('spyware.detection.artifact')}</th>
                <th scope="col">{t('spyware.detection.record')}</th>
                <th scope="col">{t('spyware.detection.indicator')}</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((event, index) => (
                <tr key={`${view.offset + index}`} className={event.detection ? 'row-infected' : undefined}>
                  <td>
                    {event.at === null ? (
                      <span className="muted">{t('spyware.noTime')}</span>
                    ) : (
                      <time dateTime={event.at}>{formatDateTime(event.at)}</time>
                    )}
                  </td>
                  <td>
                    <code>{event.artifact}</code>
                  </td>
                  <td className="record">{event.record}</td>
                  <td>
                    {event.detection === undefined ? null : (
                      <>
                        <span className="badge severity-high">
                          {t(`spyware.indicatorType.${event.detection.type}`)}
                        </span>{' '}
                        <code className="cell-break">{event.detection.indicator}</code>
                        {event.detection.malware.length === 0 ? null : (
                          <span className="malware-name"> ({event.detection.malware.join(', ')})</span>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label={t('spyware.timeline.pages')}>
        <button
          type="button"
          className="button button-small"
          disabled={!info.hasPrevious || loaded.loading}
          onClick={() => setView(previousPage(view))}
        >
          {t('spyware.timeline.previous')}
        </button>
        <span>
          {t('spyware.timeline.page', { page: formatNumber(info.page), pages: formatNumber(info.pages) })}
        </span>
        <button
          type="button"
          className="button button-small"
          disabled={!info.hasNext || loaded.loading}
          onClick={() => setView(clampView(nextPage(view, total), total))}
        >
          {t('spyware.timeline.next')}
        </button>
      </nav>
    </section>
  );
}
