import type { SpywareDevice } from '@rempart/core';
import { useI18n } from '../../i18n';
import { DeviceStatusBadge, MalwareList } from './badges';

/** A device at a glance: its state, owner, platform, latest scan and what that found. */
export function DeviceSummary({ device }: { device: SpywareDevice }) {
  const { t, formatDateTime, formatNumber } = useI18n();
  return (
    <dl className="facts" data-testid="spyware-device-summary">
      <dt>{t('spyware.fleet.status')}</dt>
      <dd>
        <DeviceStatusBadge status={device.status} />
      </dd>
      <dt>{t('spyware.fleet.owner')}</dt>
      <dd>{device.owner.email}</dd>
      <dt>{t('spyware.fleet.platform')}</dt>
      <dd>{t(`spyware.platform.${device.platform}`)}</dd>
      {device.serial === null ? null : (
        <>
          <dt>{t('spyware.device.serial')}</dt>
          <dd>{device.serial}</dd>
        </>
      )}
      <dt>{t('spyware.fleet.lastScan')}</dt>
      <dd>
        {device.lastScanAt === null ? (
          t('spyware.fleet.never')
        ) : (
          <time dateTime={device.lastScanAt}>{formatDateTime(device.lastScanAt)}</time>
        )}
      </dd>
      {device.malware.length === 0 && device.detections === 0 ? null : (
        <>
          <dt>{t('spyware.fleet.malware')}</dt>
          <dd>
            <MalwareList malware={device.malware} />{' '}
            <span className="details">
              ({t('spyware.fleet.detections', { count: formatNumber(device.detections) })})
            </span>
          </dd>
        </>
      )}
    </dl>
  );
}
