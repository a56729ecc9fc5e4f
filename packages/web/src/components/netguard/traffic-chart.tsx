import type { QueryStats } from '@rempart/core';
import { useId } from 'react';
import { useI18n } from '../../i18n';
import { TimeLabels, ValueGrid } from '../chart-axes';
import { plotTraffic } from '../../netguard/chart';
import { timeScale } from '../../netguard/stats';

/** The drawing's size in viewBox units; it scales to the width of its card. */
const VIEW = { width: 960, height: 300 };
const MARGIN = { left: 60, right: 16, top: 12, bottom: 30 };
const AREA = {
  width: VIEW.width - MARGIN.left - MARGIN.right,
  height: VIEW.height - MARGIN.top - MARGIN.bottom,
};

/**
 * Queries and blocks over the window, as two filled curves on one scale. The drawing is an
 * image to assistive technologies, named and summed up in words; the figures it is drawn from
 * are in a table beneath, folded.
 */
export function TrafficChart({ stats, hours }: { stats: QueryStats; hours: number }) {
  const { t, formatNumber, formatTime, formatDateTime } = useI18n();
  const id = useId();
  const long = timeScale(hours) === 'dateTime';
  const when = long ? formatDateTime : formatTime;
  const plot = plotTraffic(stats.series, AREA, { xTicks: long ? 4 : 6 });

  return (
    <figure className="traffic">
      <svg
        className="traffic-chart"
        viewBox={`0 0 ${VIEW.width} ${VIEW.height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        data-testid="traffic-chart"
      >
        <title id={`${id}-title`}>{t('netguard.chart.title')}</title>
        <desc id={`${id}-desc`}>
          {t('netguard.chart.summary', {
            queries: formatNumber(stats.totals.queries),
            blocked: formatNumber(stats.totals.blocked),
            from: when(stats.from),
            to: when(stats.to),
          })}
        </desc>
        <g transform={`translate(${MARGIN.left} ${MARGIN.top})`}>
          <ValueGrid ticks={plot.yTicks} width={AREA.width} prefix="traffic" />
          <path className="traffic-area traffic-queries" d={plot.queries.area} />
          <path className="traffic-line traffic-queries" d={plot.queries.line} />
          <path className="traffic-area traffic-blocked" d={plot.blocked.area} />
          <path className="traffic-line traffic-blocked" d={plot.blocked.line} />
          <TimeLabels ticks={plot.xTicks} y={AREA.height + 20} prefix="traffic" label={when} />
        </g>
      </svg>
      <figcaption className="traffic-legend">
        <span className="legend-key legend-queries">{t('netguard.chart.queries')}</span>
        <span className="legend-key legend-blocked">{t('netguard.chart.blocked')}</span>
      </figcaption>
      {stats.series.length > 0 ? (
        <details className="traffic-figures">
          <summary>{t('netguard.chart.figures')}</summary>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('netguard.chart.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('netguard.chart.from')}</th>
                  <th scope="col" className="cell-number">
                    {t('netguard.chart.queries')}
                  </th>
                  <th scope="col" className="cell-number">
                    {t('netguard.chart.blocked')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {stats.series.map((point) => (
                  <tr key={point.at}>
                    <th scope="row">
                      <time dateTime={point.at}>{when(point.at)}</time>
                    </th>
                    <td className="cell-number">{formatNumber(point.queries)}</td>
                    <td className="cell-number">{formatNumber(point.blocked)}</td>
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
