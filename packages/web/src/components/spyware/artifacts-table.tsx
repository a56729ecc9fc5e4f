import type { ArtifactStatus } from '@rempart/core';
import { useI18n } from '../../i18n';
import { ArtifactStatusBadge } from './badges';

/**
 * How each artifact of a scan went: read (with its records and detections), missing or failed, and
 * why. Open from the start when one failed: a clean verdict then says less than it seems to.
 */
export function ArtifactsTable({ artifacts }: { artifacts: readonly ArtifactStatus[] }) {
  const { t, formatNumber } = useI18n();
  if (artifacts.length === 0) return null;
  return (
    <details
      className="list-problems-toggle"
      open={artifacts.some((artifact) => artifact.status === 'failed')}
    >
      <summary>{t('spyware.artifacts.show', { count: formatNumber(artifacts.length) })}</summary>
      <div className="table-wrap">
        <table className="table" data-testid="spyware-artifacts">
          <caption className="table-caption">{t('spyware.artifacts.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('spyware.artifacts.artifact')}</th>
              <th scope="col">{t('spyware.artifacts.status')}</th>
              <th scope="col" className="cell-number">
                {t('spyware.artifacts.records')}
              </th>
              <th scope="col" className="cell-number">
                {t('spyware.artifacts.detections')}
              </th>
              <th scope="col">{t('spyware.artifacts.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {artifacts.map((artifact) => (
              <tr key={artifact.artifact} className={artifact.detections > 0 ? 'row-infected' : undefined}>
                <th scope="row">
                  <code>{artifact.artifact}</code>
                </th>
                <td>
                  <ArtifactStatusBadge status={artifact.status} />
                </td>
                <td className="cell-number">{formatNumber(artifact.records)}</td>
                <td className="cell-number">{formatNumber(artifact.detections)}</td>
                <td className="cell-break">{artifact.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
