import type { LeakCheckResult } from '@rempart/core';
import { useState } from 'react';
import { useI18n } from '../../i18n';
import { percent, type NumberedFinding } from '../../leakcheck/findings';

/** A number label's size, in CSS pixels: the same at any size of the image. */
const LABEL_HEIGHT = 22;
const labelWidth = (number: number): number => 12 + 8 * String(number).length;

/**
 * The checked image with a numbered box over each finding located on it. The boxes are drawn
 * in an SVG whose viewBox is the image's size in pixels, so they follow the image at whatever
 * size it is displayed; the numbers sit in a second layer, placed in percentages, so that they
 * stay readable on a large photo shown small. The overlay is hidden from assistive technologies:
 * the list of findings says the same, with the same numbers.
 */
export function LeakImage({
  image,
  src,
  alt,
  findings,
  active,
  onActive,
  onPick,
}: {
  image: LeakCheckResult['image'];
  src: string;
  alt: string;
  findings: readonly NumberedFinding[];
  /** The number of the finding highlighted, if any. */
  active: number | undefined;
  onActive: (number: number | undefined) => void;
  /** A box was clicked: its entry in the list takes the focus. */
  onPick: (number: number) => void;
}) {
  const { t } = useI18n();
  const [broken, setBroken] = useState(false);
  const located = findings.filter((entry) => entry.box !== null);
  const { width, height } = image;

  const handlers = (number: number) => ({
    onMouseEnter: () => onActive(number),
    onMouseLeave: () => onActive(undefined),
    onClick: () => onPick(number),
  });
  const className = (base: string, entry: NumberedFinding) =>
    `${base} ${base}-${entry.finding.severity}${entry.number === active ? ` ${base}-active` : ''}`;

  return (
    <figure className="leak-figure">
      <div className={active === undefined ? 'leak-canvas' : 'leak-canvas leak-canvas-focus'}>
        <img
          src={src}
          alt={alt}
          width={width}
          height={height}
          className="leak-picture"
          data-testid="leakcheck-image"
          onError={() => setBroken(true)}
        />
        <svg className="leak-overlay" aria-hidden="true" focusable="false" data-testid="leak-overlay">
          <svg
            viewBox={`0 0 ${width} ${height}`}
            preserveAspectRatio="none"
            width="100%"
            height="100%"
            overflow="visible"
          >
            {located.map((entry) => {
              const box = entry.box;
              if (box === null) return null;
              return (
                <g
                  key={entry.number}
                  className={className('leak-box', entry)}
                  data-finding={entry.number}
                  {...handlers(entry.number)}
                >
                  <title>
                    {t('leakcheck.boxTitle', {
                      number: entry.number,
                      kind: t(`leakcheck.kind.${entry.finding.kind}`),
                      reason: entry.finding.reason,
                    })}
                  </title>
                  {/* A light halo under the coloured edge: the box shows on dark and light pictures alike. */}
                  {(['leak-box-halo', 'leak-box-edge'] as const).map((part) => (
                    <rect
                      key={part}
                      className={part}
                      x={box.x}
                      y={box.y}
                      width={box.width}
                      height={box.height}
                      vectorEffect="non-scaling-stroke"
                    />
                  ))}
                </g>
              );
            })}
          </svg>
          {located.map((entry) => {
            const box = entry.box;
            if (box === null) return null;
            // Above the box when there is room, else inside its top edge.
            const above = box.y / height > 0.06;
            return (
              <svg
                key={entry.number}
                x={percent(box.x, width)}
                y={percent(box.y, height)}
                overflow="visible"
                className={className('leak-label', entry)}
                data-label={entry.number}
                {...handlers(entry.number)}
              >
                <rect
                  x={0}
                  y={above ? -LABEL_HEIGHT : 0}
                  width={labelWidth(entry.number)}
                  height={LABEL_HEIGHT}
                  rx={4}
                />
                <text x={labelWidth(entry.number) / 2} y={(above ? -LABEL_HEIGHT : 0) + LABEL_HEIGHT / 2}>
                  {entry.number}
                </text>
              </svg>
            );
          })}
        </svg>
      </div>
      {broken ? (
        <figcaption className="message message-info">{t('leakcheck.undisplayable')}</figcaption>
      ) : null}
    </figure>
  );
}
