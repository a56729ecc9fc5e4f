import type { TimelineEvent } from '@rempart/core';
import { useI18n } from '../../i18n';
import { detectionRows } from '../../spyware/detections';
import { MalwareList } from './badges';

/**
 * The records an indicator matched: when, the artifact and its file, the record, the indicator
 * (type and value) and what in the record matched, the malware, and the bundle it came from.
 */
export function DetectionsTable({
  events,
  caption,
  testId,
}: {
  events: readonly TimelineEvent[];
  caption: string;
  testId?: string;
}) {
  const { t, formatDateTime } = useI18n();
  const rows = detectionRows(events);
  if (rows.length === 0) return null;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <caption className="table-caption">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('spyware.detection.at')}</th>
            <th scope="col">{t('spyware.detection.artifact')}</th>
            <th scope="col">{t('spyware.detection.record')}</th>
            <th scope="col">{t('spyware.detection.indicator')}</th>
            <th scope="col">{t('spyware.detection.malware')}</th>
            <th scope="col">{t('spyware.detection.source')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} className="row-infected">
              <td>
                {row.at === null ? (
                  <span className="muted">{t('spyware.noTime')}</span>
                ) : (
                  <time dateTime={row.at}>{formatDateTime(row.at)}</time>
                )}
              </td>
              <td>
                <code>{row.artifact}</code>
                <p className="details cell-break">{row.file}</p>
              </td>
              <td className="record">{row.record}</td>
              <td>
                <span className="badge severity-high">{t(`spyware.indicatorType.${row.type}`)}</span>{' '}
                <code className="cell-break">{row.indicator}</code>
                {row.matched === undefined ? null : (
                  <p className="details cell-break">
                    {t('spyware.detection.matched', { matched: row.matched })}
                  </p>
                )}
              </td>
              <td>
                <MalwareList malware={row.malware} />
              </td>
              <td className="cell-break">{row.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
