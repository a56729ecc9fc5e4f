import { useId } from 'react';
import { useI18n } from '../../i18n';
import { TimeLabels, ValueGrid } from '../chart-axes';
import { timeScale } from '../../netguard/stats';
import {
  levelTotals,
  plotTimeline,
  timelineLevels,
  type TimelineBucket,
  type WatchWindow,
} from '../../serverwatch/timeline';

/** The drawing's size in viewBox units; it scales to the width of its card. */
const VIEW = { width: 960, height: 260 };
const MARGIN = { left: 52, right: 16, top: 12, bottom: 30 };
const AREA = {
  width: VIEW.width - MARGIN.left - MARGIN.right,
  height: VIEW.height - MARGIN.top - MARGIN.bottom,
};

/**
 * The hits of the window as bars per time bucket, stacked by level in the colours of the alert
 * badges. The drawing is an image to assistive technologies, named and summed up in words; each
 * bar has its own figures as a tooltip, and the table they are drawn from is beneath, folded.
 */
export function TimelineChart({
  buckets,
  hours,
  complete,
}: {
  buckets: readonly TimelineBucket[];
  hours: WatchWindow;
  /** False when only the newest hits of a busy window were read. */
  complete: boolean;
}) {
  const { t, formatNumber, formatTime, formatDateTime } = useI18n();
  const id = useId();
  const long = timeScale(hours) === 'dateTime';
  const when = long ? formatDateTime : formatTime;
  const plot = plotTimeline(buckets, AREA, { xTicks: long ? 4 : 6 });
  const totals = levelTotals(buckets);
  const first = buckets[0];
  const end = buckets[buckets.length - 1];
  const byLevel = timelineLevels
    .filter((level) => totals[level] > 0)
    .map((level) =>
      t('watch.timeline.levelCount', { count: formatNumber(totals[level]), level: t(`severity.${level}`) }),
    )
    .join(', ');

  return (
    <figure className="watch-timeline">
      <svg
        className="watch-timeline-chart"
        viewBox={`0 0 ${VIEW.width} ${VIEW.height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        data-testid="watch-timeline"
        data-hits={totals.total}
      >
        <title id={`${id}-title`}>{t('watch.timeline.title')}</title>
        <desc id={`${id}-desc`}>
          {first === undefined || end === undefined
            ? t('watch.timeline.none')
            : t('watch.timeline.summary', {
                count: formatNumber(totals.total),
                from: when(first.start),
                to: when(end.end),
              }) + (byLevel === '' ? '' : ` ${byLevel}.`)}
        </desc>
        <g transform={`translate(${MARGIN.left} ${MARGIN.top})`}>
          <ValueGrid ticks={plot.yTicks} width={AREA.width} prefix="watch" />
          {plot.bars.map((bar) => (
            <g key={bar.start} className="watch-bar">
              {bar.segments.map((segment) => (
                <rect
                  key={segment.level}
                  className={`watch-segment watch-level-${segment.level}`}
                  x={bar.x}
                  y={segment.y}
                  width={bar.width}
                  height={segment.height}
                >
                  <title>
                    {t('watch.timeline.barTitle', {
                      from: when(bar.start),
                      count: formatNumber(segment.count),
                      level: t(`severity.${segment.level}`),
                    })}
                  </title>
                </rect>
              ))}
            </g>
          ))}
          <TimeLabels ticks={plot.xTicks} y={AREA.height + 20} prefix="watch" label={when} />
        </g>
      </svg>
      <figcaption className="watch-legend">
        {timelineLevels.map((level) => (
          <span key={level} className={`watch-legend-key watch-level-${level}`}>
            {t(`severity.${level}`)}
          </span>
        ))}
      </figcaption>
      {complete ? null : <p className="field-hint">{t('watch.timeline.partial')}</p>}
      {totals.total > 0 ? (
        <details className="watch-figures">
          <summary>{t('watch.timeline.figures')}</summary>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('watch.timeline.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('watch.timeline.from')}</th>
                  {timelineLevels.map((level) => (
                    <th key={level} scope="col" className="cell-number">
                      {t(`severity.${level}`)}
                    </th>
                  ))}
                  <th scope="col" className="cell-number">
                    {t('watch.timeline.total')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {buckets
                  .filter((bucket) => bucket.total > 0)
                  .map((bucket) => (
                    <tr key={bucket.start}>
                      <th scope="row">
                        <time dateTime={bucket.start}>{when(bucket.start)}</time>
                      </th>
                      {timelineLevels.map((level) => (
                        <td key={level} className="cell-number">
                          {formatNumber(bucket.counts[level])}
                        </td>
                      ))}
                      <td className="cell-number">{formatNumber(bucket.total)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
    </figure>
  );
}
