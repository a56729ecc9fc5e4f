import type { LeakCheckResult, LeakFinding } from '@rempart/core';
import { useId, useState } from 'react';
import { useI18n } from '../../i18n';
import { arrangeFindings, type NumberedFinding } from '../../leakcheck/findings';
import { formatSize, redactedSource } from '../../leakcheck/image';
import { SeverityBadge } from '../badges';
import { LeakImage } from './leak-image';

/** The redacted copy, ready to download (its object URL lives as long as the report). */
export interface RedactedDownload {
  url: string;
  fileName: string;
}

/** The answer in one line: nothing found, or how many things and what to do. */
export function Verdict({ result }: { result: LeakCheckResult }) {
  const { t, formatNumber } = useI18n();
  const count = result.findings.length;
  if (count === 0) {
    return (
      <div className="verdict verdict-clear" data-testid="verdict">
        <p className="verdict-title">{t('leakcheck.verdict.clear')}</p>
        <p>{t('leakcheck.verdict.clearNote')}</p>
      </div>
    );
  }
  return (
    <div className="verdict verdict-leak" data-testid="verdict">
      <p className="verdict-title">
        {count === 1
          ? t('leakcheck.verdict.one')
          : t('leakcheck.verdict.many', { count: formatNumber(count) })}
      </p>
      <p>{t(result.redacted ? 'leakcheck.verdict.adviceRedacted' : 'leakcheck.verdict.advice')}</p>
    </div>
  );
}

function MeetingNote({ meeting }: { meeting: NonNullable<LeakFinding['meeting']> }) {
  const { t } = useI18n();
  return (
    <p className={meeting.rotated ? 'leak-meeting leak-meeting-rotated' : 'leak-meeting'}>
      {t(meeting.rotated ? 'leakcheck.meetingRotated' : 'leakcheck.meetingAlreadyRotated', {
        title: meeting.title,
      })}
    </p>
  );
}

/** What was found and why it matters; for the picture, where (its text, a QR code, a barcode). */
function FindingBody({ finding }: { finding: LeakFinding }) {
  const { t } = useI18n();
  return (
    <>
      <p className="leak-found">
        <span className="visually-hidden">{t('leakcheck.found')} </span>
        <code>{finding.text}</code>
      </p>
      <p className="leak-reason">{finding.reason}</p>
      {finding.meeting ? <MeetingNote meeting={finding.meeting} /> : null}
      {finding.source === 'metadata' ? null : (
        <p className="leak-source">{t(`leakcheck.source.${finding.source}`)}</p>
      )}
    </>
  );
}

function PicturedFinding({
  entry,
  idPrefix,
  active,
  onActive,
}: {
  entry: NumberedFinding;
  idPrefix: string;
  active: boolean;
  onActive: (number: number | undefined) => void;
}) {
  const { t } = useI18n();
  const { number, finding, box } = entry;
  const headingId = `${idPrefix}-finding-${number}`;
  return (
    <li
      className={`leak-finding leak-finding-${finding.severity}${active ? ' leak-finding-active' : ''}`}
      data-finding={number}
      onMouseEnter={() => onActive(number)}
      onMouseLeave={() => onActive(undefined)}
      onFocus={() => onActive(number)}
      onBlur={() => onActive(undefined)}
    >
      <div className="leak-finding-head">
        <h3 id={headingId}>
          <span className="leak-number">{number}</span> {t(`leakcheck.kind.${finding.kind}`)}
        </h3>
        <SeverityBadge severity={finding.severity} />
      </div>
      <FindingBody finding={finding} />
      {box === null ? (
        <p className="leak-source">{t('leakcheck.notLocated')}</p>
      ) : (
        <button
          type="button"
          id={`${headingId}-locate`}
          className="button-link"
          aria-describedby={headingId}
          onClick={() =>
            document
              .getElementById(`${idPrefix}-image`)
              ?.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
          }
        >
          {t('leakcheck.locate')}
        </button>
      )}
    </li>
  );
}

/**
 * The report on one checked image: the image with its boxes (the original or the redacted
 * copy), the download of the redacted copy, the findings in the picture, numbered like their
 * boxes, and those in the file's metadata. Hovering or focusing a finding highlights its box,
 * and hovering a box highlights its finding.
 */
export function LeakReport({
  result,
  name,
  originalSrc,
  download,
}: {
  result: LeakCheckResult;
  /** The file's name, as the agent knows it. */
  name: string;
  /** The original image, once the browser has read it. */
  originalSrc: string | undefined;
  download: RedactedDownload | undefined;
}) {
  const { t, language, formatNumber } = useI18n();
  const idPrefix = useId();
  const [active, setActive] = useState<number>();
  const [shown, setShown] = useState<'original' | 'redacted'>('original');
  const { pictured, metadata } = arrangeFindings(result);
  const redactedSrc = redactedSource(result);
  const redacted = shown === 'redacted' || originalSrc === undefined;
  const src = redacted ? redactedSrc : originalSrc;
  const { image } = result;

  return (
    <div className="leak-report">
      <section className="leak-visual" aria-labelledby={`${idPrefix}-image-heading`}>
        <h2 id={`${idPrefix}-image-heading`} className="visually-hidden">
          {t('leakcheck.image')}
        </h2>
        {redactedSrc !== undefined && originalSrc !== undefined ? (
          <fieldset className="leak-views">
            <legend>{t('leakcheck.show')}</legend>
            {(['original', 'redacted'] as const).map((view) => (
              <label key={view} className="leak-view">
                <input
                  type="radio"
                  name={`${idPrefix}-view`}
                  value={view}
                  checked={shown === view}
                  onChange={() => setShown(view)}
                />
                {t(view === 'original' ? 'leakcheck.showOriginal' : 'leakcheck.showRedacted')}
              </label>
            ))}
          </fieldset>
        ) : null}
        <div id={`${idPrefix}-image`}>
          {src === undefined ? null : (
            <LeakImage
              key={src}
              image={image}
              src={src}
              alt={t(redacted ? 'leakcheck.altRedacted' : 'leakcheck.altOriginal', { name })}
              findings={pictured}
              active={active}
              onActive={setActive}
              onPick={(number) => document.getElementById(`${idPrefix}-finding-${number}-locate`)?.focus()}
            />
          )}
        </div>
        <p className="muted" data-testid="leakcheck-facts">
          {t('leakcheck.facts', {
            format: image.format.toUpperCase(),
            width: formatNumber(image.width),
            height: formatNumber(image.height),
            size: formatSize(image.bytes, language),
            seconds: formatNumber(Math.round(result.elapsedMs / 100) / 10),
          })}
        </p>
        {download ? (
          <p className="leak-download">
            <a className="button button-primary" href={download.url} download={download.fileName}>
              {t('leakcheck.download')}
            </a>
            <span className="muted">{t('leakcheck.downloadNote')}</span>
          </p>
        ) : null}
      </section>

      <div className="leak-lists">
        {pictured.length > 0 ? (
          <section aria-labelledby={`${idPrefix}-pictured`} data-testid="leakcheck-pictured">
            <h2 id={`${idPrefix}-pictured`}>{t('leakcheck.pictured')}</h2>
            <ol className="leak-findings">
              {pictured.map((entry) => (
                <PicturedFinding
                  key={entry.number}
                  entry={entry}
                  idPrefix={idPrefix}
                  active={entry.number === active}
                  onActive={setActive}
                />
              ))}
            </ol>
          </section>
        ) : null}
        {metadata.length > 0 ? (
          <section aria-labelledby={`${idPrefix}-metadata`} data-testid="leakcheck-metadata">
            <h2 id={`${idPrefix}-metadata`}>
              {t(result.redacted ? 'leakcheck.metadata' : 'leakcheck.metadataKept')}
            </h2>
            <ul className="leak-findings">
              {metadata.map((finding, index) => (
                <li key={index} className={`leak-finding leak-finding-${finding.severity}`}>
                  <div className="leak-finding-head">
                    <h3>{t(`leakcheck.kind.${finding.kind}`)}</h3>
                    <SeverityBadge severity={finding.severity} />
                  </div>
                  <FindingBody finding={finding} />
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </div>
    </div>
  );
}
