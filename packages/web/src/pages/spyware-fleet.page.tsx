/**
 * The fleet at a glance: how many devices are infected (first, in red), clean, waiting for their
 * owner's consent, or never checked; then every device, the most urgent first, filterable.
 */
import { useState } from 'react';
import { api } from '../api';
import { SelectField, TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { DeviceStatusBadge, MalwareList } from '../components/spyware/badges';
import { SpywareFrame } from '../components/spyware/spyware-frame';
import { useReloadWhile } from '../components/spyware/use-scan';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import {
  filterDevices,
  fleetTiles,
  isFiltered,
  noFleetFilter,
  sortDevices,
  summariseFleet,
  type FleetFilter,
} from '../spyware/fleet';
import { spywareDevicePath, spywarePath } from '../spyware/sections';

export function SpywareFleetPage() {
  const { t, formatNumber, formatDateTime } = useI18n();
  const loaded = useLoad(() => api.spyware.devices(), []);
  const [filter, setFilter] = useState<FleetFilter>(noFleetFilter);
  const devices = loaded.data ?? [];
  const summary = summariseFleet(devices);
  const shown = filterDevices(sortDevices(devices), filter);
  // Scans under way change the counts by themselves.
  useReloadWhile(
    devices.some((device) => device.status === 'scanning'),
    loaded.reload,
  );

  return (
    <SpywareFrame section="fleet">
      <div className="toolbar">
        <p className="muted">{t('spyware.fleet.intro')}</p>
        <div className="actions">
          <Link className="button button-primary" to={spywarePath('request')}>
            {t('spyware.fleet.request')}
          </Link>
          <button type="button" className="button" disabled={loaded.loading} onClick={loaded.reload}>
            {t('spyware.fleet.refresh')}
          </button>
        </div>
      </div>
      <ErrorMessage error={loaded.error} />
      {loaded.data === undefined ? (
        <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
      ) : (
        <>
          <ul
            className="stat-tiles fleet-tiles"
            data-testid="spyware-totals"
            aria-label={t('spyware.fleet.totals')}
          >
            {summary.tiles.map((entry) => (
              <li key={entry.tile}>
                <button
                  type="button"
                  className={`stat-tile fleet-tile stat-${entry.tile}`}
                  aria-pressed={filter.status === entry.tile}
                  data-testid={`spyware-tile-${entry.tile}`}
                  onClick={() =>
                    setFilter({ ...filter, status: filter.status === entry.tile ? 'all' : entry.tile })
                  }
                >
                  <span className="fleet-tile-label">{t(`spyware.tile.${entry.tile}`)}</span>
                  <span className="stat-value">{formatNumber(entry.count)}</span>
                </button>
              </li>
            ))}
          </ul>

          <section className="card" aria-labelledby="spyware-devices">
            <h2 id="spyware-devices">{t('spyware.fleet.devices')}</h2>
            <div className="toolbar">
              <TextField
                id="spyware-filter-text"
                type="search"
                label={t('spyware.fleet.search')}
                hint={t('spyware.fleet.searchHint')}
                value={filter.text}
                onChange={(event) => setFilter({ ...filter, text: event.target.value })}
              />
              <SelectField
                id="spyware-filter-status"
                label={t('spyware.fleet.status')}
                value={filter.status}
                onChange={(event) => {
                  const status = fleetTiles.find((tile) => tile === event.target.value) ?? 'all';
                  setFilter({ ...filter, status });
                }}
              >
                <option value="all">{t('spyware.fleet.everyStatus')}</option>
                {fleetTiles.map((tile) => (
                  <option key={tile} value={tile}>
                    {t(`spyware.tile.${tile}`)}
                  </option>
                ))}
              </SelectField>
              <SelectField
                id="spyware-filter-platform"
                label={t('spyware.fleet.platform')}
                value={filter.platform}
                onChange={(event) => {
                  const value = event.target.value;
                  setFilter({ ...filter, platform: value === 'ios' || value === 'android' ? value : 'all' });
                }}
              >
                <option value="all">{t('spyware.fleet.everyPlatform')}</option>
                <option value="ios">{t('spyware.platform.ios')}</option>
                <option value="android">{t('spyware.platform.android')}</option>
              </SelectField>
            </div>
            <StatusMessage
              message={
                isFiltered(filter)
                  ? t('spyware.fleet.shown', {
                      shown: formatNumber(shown.length),
                      total: formatNumber(devices.length),
                    })
                  : undefined
              }
            />
            {devices.length === 0 ? (
              <p className="empty">{t('spyware.fleet.empty')}</p>
            ) : shown.length === 0 ? (
              <p className="empty">{t('spyware.fleet.noneShown')}</p>
            ) : (
              <div className="table-wrap">
                <table className="table" data-testid="spyware-devices">
                  <thead>
                    <tr>
                      <th scope="col">{t('spyware.fleet.owner')}</th>
                      <th scope="col">{t('spyware.fleet.device')}</th>
                      <th scope="col">{t('spyware.fleet.platform')}</th>
                      <th scope="col">{t('spyware.fleet.status')}</th>
                      <th scope="col">{t('spyware.fleet.lastScan')}</th>
                      <th scope="col">{t('spyware.fleet.malware')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((device) => (
                      <tr
                        key={device.id}
                        className={device.status === 'infected' ? 'row-infected' : undefined}
                        data-testid="spyware-device-row"
                      >
                        <td className="cell-break">{device.owner.email}</td>
                        <th scope="row" className="cell-break">
                          <Link to={spywareDevicePath(device.id)}>{device.name}</Link>
                          {device.serial === null ? null : <p className="details">{device.serial}</p>}
                        </th>
                        <td>{t(`spyware.platform.${device.platform}`)}</td>
                        <td>
                          <DeviceStatusBadge status={device.status} />
                        </td>
                        <td>
                          {device.lastScanAt === null ? (
                            <span className="muted">{t('spyware.fleet.never')}</span>
                          ) : (
                            <time dateTime={device.lastScanAt}>{formatDateTime(device.lastScanAt)}</time>
                          )}
                        </td>
                        <td>
                          {device.status === 'infected' || device.malware.length > 0 ? (
                            <>
                              <MalwareList malware={device.malware} />
                              <p className="details">
                                {t('spyware.fleet.detections', { count: formatNumber(device.detections) })}
                              </p>
                            </>
                          ) : (
                            <span className="muted">—</span>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </SpywareFrame>
  );
}
