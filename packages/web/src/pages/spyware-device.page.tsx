/**
 * One device: its state, and each of its scans, newest first, with its consent record, its
 * findings and timeline. Administrators act on the scans (attach a form, send the artifact);
 * the owner answers a request for their consent on the same page.
 */
import type { Scan } from '@rempart/core';
import type { ReactNode } from 'react';
import { api } from '../api';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { DeviceSummary } from '../components/spyware/device-summary';
import { ScanCard } from '../components/spyware/scan-card';
import { SpywareFrame } from '../components/spyware/spyware-frame';
import { useReloadWhile } from '../components/spyware/use-scan';
import '../components/spyware/spyware.css';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';
import { scansNewestFirst, withScan } from '../spyware/scans';
import { MY_DEVICES_PATH, spywarePath } from '../spyware/sections';

export function SpywareDevicePage({ id }: { id: string }) {
  const { t } = useI18n();
  const { state } = useSession();
  const me = state?.authenticated === true ? state.agent : undefined;
  const admin = me?.role === 'admin';
  const loaded = useLoad(() => api.spyware.device(id), [id]);
  const detail = loaded.data;
  const scans = detail === undefined ? [] : scansNewestFirst(detail.scans);
  const owner = detail !== undefined && me !== undefined && detail.device.owner.id === me.id;

  // The owner answers elsewhere: the upload control appears here once they consent.
  useReloadWhile(
    scans.some((scan) => scan.status === 'awaiting_consent'),
    loaded.reload,
  );

  const changed = (scan: Scan) => {
    const before = detail?.scans.find((other) => other.id === scan.id);
    loaded.setData((previous) => withScan(previous, scan));
    // A new state of a scan can change the device's (an infection found, a request answered).
    if (before?.status !== scan.status) loaded.reload();
  };

  const body: ReactNode = (
    <>
      <ErrorMessage error={loaded.error} />
      {detail === undefined ? (
        <StatusMessage message={loaded.loading ? t('app.loading') : undefined} />
      ) : (
        <>
          <section className="card" aria-labelledby="spyware-device">
            <div className="card-head">
              <h2 id="spyware-device">{t('spyware.device.title')}</h2>
              {admin ? (
                <Link className="button" to={spywarePath('request')}>
                  {t('spyware.device.requestAnother')}
                </Link>
              ) : null}
            </div>
            <DeviceSummary device={detail.device} />
          </section>
          {scans.length === 0 ? <p className="empty">{t('spyware.device.noScans')}</p> : null}
          {scans.map((scan, index) => (
            <ScanCard
              key={scan.id}
              scan={scan}
              admin={admin}
              owner={owner}
              latest={index === 0}
              onChange={changed}
            />
          ))}
        </>
      )}
    </>
  );

  const name = detail?.device.name ?? t('spyware.device.title');
  if (admin)
    return (
      <SpywareFrame section={undefined} title={name}>
        {body}
      </SpywareFrame>
    );
  return (
    <Page
      title={t('spyware.pageTitle', { section: name })}
      heading={
        <>
          <span className="heading-context">
            <Link to={MY_DEVICES_PATH}>{t('spyware.mine.title')}</Link>
            <span className="visually-hidden">: </span>
          </span>
          {name}
        </>
      }
      wide
    >
      {body}
    </Page>
  );
}
