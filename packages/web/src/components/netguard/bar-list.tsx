import type { ReactNode } from 'react';
import { barLengths } from '../../netguard/stats';

export interface Bar {
  key: string;
  label: ReactNode;
  /** The figure the bar is drawn from. */
  value: number;
  /** The figure in words, read by everyone (the bar itself is decoration). */
  valueText: string;
  /** A part of the value drawn over its bar, e.g. the blocked share of a client's queries. */
  part?: number;
  note?: ReactNode;
}

/**
 * A ranked list with a bar per entry, the longest for the first. The bars are drawn in SVG
 * (the console's CSP allows no inline style) and hidden from assistive technologies: each
 * entry says its figure in words.
 */
export function BarList({
  bars,
  tone = 'queries',
  testId,
}: {
  bars: readonly Bar[];
  /** What the bars count: queries (blue) or blocks (red), as in the plot. */
  tone?: 'queries' | 'blocked';
  testId?: string;
}) {
  const values = bars.map((bar) => bar.value);
  const lengths = barLengths(values);
  const parts = barLengths(
    bars.map((bar) => bar.part ?? 0),
    Math.max(0, ...values),
  );
  return (
    <ol className={`bar-list bar-list-${tone}`} data-testid={testId}>
      {bars.map((bar, index) => (
        <li key={bar.key}>
          <div className="bar-row">
            <span className="bar-label">{bar.label}</span>
            <span className="bar-value">{bar.valueText}</span>
          </div>
          <svg
            className="bar"
            viewBox="0 0 100 4"
            preserveAspectRatio="none"
            aria-hidden="true"
            focusable="false"
          >
            <rect className="bar-track" width={100} height={4} />
            <rect className="bar-fill" width={lengths[index] ?? 0} height={4} />
            {bar.part === undefined ? null : (
              <rect className="bar-part" width={parts[index] ?? 0} height={4} />
            )}
          </svg>
          {bar.note === undefined ? null : <p className="bar-note">{bar.note}</p>}
        </li>
      ))}
    </ol>
  );
}
