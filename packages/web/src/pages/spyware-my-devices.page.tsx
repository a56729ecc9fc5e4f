/**
 * Every agent's own devices: their state and what the latest check found, and first of all the
 * requests that wait for the agent's answer, each with its purpose and who asked.
 */
import type { DeviceDetail, Scan } from '@rempart/core';
import { api } from '../api';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { ConsentRequest } from '../components/spyware/consent-request';
import { DetectionsTable } from '../components/spyware/detections-table';
import { DeviceSummary } from '../components/spyware/device-summary';
import '../components/spyware/spyware.css';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';
import { awaitingConsent, latestFinished, withScan } from '../spyware/scans';
import { spywareDevicePath } from '../spyware/sections';

async function myDevices(agentId: string | undefined): Promise<DeviceDetail[]> {
  // An administrator is given the whole fleet: here, only what they own.
  const devices = (await api.spyware.devices()).filter((device) => device.owner.id === agentId);
  return Promise.all(devices.map((device) => api.spyware.device(device.id)));
}

export function SpywareMyDevicesPage() {
  const { t, formatNumber } = useI18n();
  const { state } = useSession();
  const agentId = state?.authenticated === true ? state.agent.id : undefined;
  const loaded = useLoad(() => myDevices(agentId), [agentId]);
  const details = loaded.data ?? [];
  const pending = details.flatMap((detail) => awaitingConsent(detail.scans));

  const answered = (scan: Scan) => {
    loaded.setData((previous) => previous?.map((detail) => withScan(detail, scan) ?? detail));
    loaded.reload();
  };

  return (
    <Page title={t('spyware.mine.title')} lead={t('spyware.mine.lead')} wide>
      <ErrorMessage error={loaded.error} />
      {loaded.data === undefined ? (
        <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
      ) : (
        <>
          {pending.length === 0 ? null : (
            <section className="card card-waiting" aria-labelledby="spyware-pending">
              <h2 id="spyware-pending">
                {t('spyware.mine.pending', { count: formatNumber(pending.length) })}
              </h2>
              {pending.map((scan) => (
                <ConsentRequest key={scan.id} scan={scan} onChange={answered} />
              ))}
            </section>
          )}
          {details.length === 0 ? <p className="empty">{t('spyware.mine.empty')}</p> : null}
          {details.map(({ device, scans }) => {
            const finished = latestFinished(scans);
            const tone =
              device.status === 'infected'
                ? 'card card-infected'
                : device.status === 'clean'
                  ? 'card card-clean'
                  : 'card';
            return (
              <section
                key={device.id}
                className={tone}
                aria-labelledby={`my-device-${device.id}`}
                data-testid="spyware-my-device"
              >
                <div className="card-head">
                  <h2 id={`my-device-${device.id}`}>
                    <Link to={spywareDevicePath(device.id)}>{device.name}</Link>
                  </h2>
                </div>
                <DeviceSummary device={device} />
                {finished === undefined ? null : finished.verdict === 'infected' ? (
                  <>
                    <p className="message message-error">{t('spyware.mine.infected')}</p>
                    <DetectionsTable
                      events={finished.detections}
                      caption={t('spyware.scan.detections')}
                      testId="spyware-detections"
                    />
                  </>
                ) : finished.verdict === 'clean' ? (
                  <p className="message message-success">{t('spyware.mine.clean')}</p>
                ) : null}
              </section>
            );
          })}
        </>
      )}
    </Page>
  );
}
