/**
 * The axes the console's time charts draw (the network guard's traffic, the server watch's
 * alerts): grid lines with their values on the left, times under the plot. Class names take the
 * chart's prefix (`traffic-grid`, `watch-axis`…) so each chart keeps its own look.
 */
import { useI18n } from '../i18n';

/** Horizontal grid lines across `width`, each labelled with its value. */
export function ValueGrid({
  ticks,
  width,
  prefix,
}: {
  ticks: readonly { value: number; y: number }[];
  width: number;
  prefix: string;
}) {
  const { formatNumber } = useI18n();
  return (
    <>
      {ticks.map((tick) => (
        <g key={tick.value}>
          <line className={`${prefix}-grid`} x1={0} x2={width} y1={tick.y} y2={tick.y} />
          <text className={`${prefix}-axis`} x={-8} y={tick.y} textAnchor="end" dominantBaseline="middle">
            {formatNumber(tick.value)}
          </text>
        </g>
      ))}
    </>
  );
}

/** Times at `y`, the first aligned on its start and the last on its end, so both stay in view. */
export function TimeLabels({
  ticks,
  y,
  prefix,
  label,
}: {
  ticks: readonly { at: string; x: number }[];
  y: number;
  prefix: string;
  label: (at: string) => string;
}) {
  const last = ticks.length - 1;
  return (
    <>
      {ticks.map((tick, index) => (
        <text
          key={tick.at}
          className={`${prefix}-axis`}
          x={tick.x}
          y={y}
          textAnchor={index === 0 ? 'start' : index === last ? 'end' : 'middle'}
        >
          {label(tick.at)}
        </text>
      ))}
    </>
  );
}
