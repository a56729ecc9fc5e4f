/** A device's and a scan's states, written out and coloured (never colour alone). */
import type { ArtifactStatus, DeviceStatus, ScanStatus } from '@rempart/core';
import { useI18n } from '../../i18n';

export function DeviceStatusBadge({ status }: { status: DeviceStatus }) {
  const { t } = useI18n();
  return (
    <span className={`badge device-status-${status}`} data-status={status}>
      {t(`spyware.deviceStatus.${status}`)}
    </span>
  );
}

export function ScanStatusBadge({ status }: { status: ScanStatus }) {
  const { t } = useI18n();
  return <span className={`badge scan-status-${status}`}>{t(`spyware.scanStatus.${status}`)}</span>;
}

export function VerdictBadge({ verdict }: { verdict: 'clean' | 'infected' }) {
  const { t } = useI18n();
  return <span className={`badge scan-verdict-${verdict}`}>{t(`spyware.verdict.${verdict}`)}</span>;
}

export function ArtifactStatusBadge({ status }: { status: ArtifactStatus['status'] }) {
  const { t } = useI18n();
  return <span className={`badge artifact-${status}`}>{t(`spyware.artifactStatus.${status}`)}</span>;
}

/** Malware names in red, or the words "none named" when the indicators name none. */
export function MalwareList({ malware }: { malware: readonly string[] }) {
  const { t } = useI18n();
  if (malware.length === 0) return <span className="muted">{t('spyware.noMalware')}</span>;
  return (
    <>
      {malware.map((name, index) => (
        <span key={name}>
          {index > 0 ? ', ' : null}
          <span className="malware-name">{name}</span>
        </span>
      ))}
    </>
  );
}
