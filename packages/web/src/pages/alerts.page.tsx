/** Alerts from every module, newest first, updated live. */
import type { Alert, AlertFeedMessage } from '@rempart/core';
import { useCallback, useState } from 'react';
import { useAlertFeed, type FeedStatus } from '../alert-feed';
import { api, type AlertStatusFilter } from '../api';
import { SeverityBadge } from '../components/badges';
import { SelectField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { Page } from '../components/page';
import { useAction, useLoad } from '../hooks';
import { useI18n, type MessageKey } from '../i18n';

const filters: readonly { value: AlertStatusFilter; label: MessageKey }[] = [
  { value: 'open', label: 'alerts.filterOpen' },
  { value: 'acknowledged', label: 'alerts.filterAcknowledged' },
  { value: 'all', label: 'alerts.filterAll' },
];

const feedLabels: Readonly<Record<FeedStatus, MessageKey>> = {
  connecting: 'alerts.connecting',
  live: 'alerts.live',
  reconnecting: 'alerts.reconnecting',
};

function Details({ details }: { details: Alert['details'] }) {
  const entries = Object.entries(details);
  if (entries.length === 0) return null;
  return (
    <dl className="details">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function AlertsPage() {
  const { t, formatDateTime } = useI18n();
  const [filter, setFilter] = useState<AlertStatusFilter>('open');
  const alerts = useLoad(() => api.alerts(filter), [filter]);
  const [announcement, setAnnouncement] = useState<string>();
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const acting = useAction();
  const { setData, reload } = alerts;

  const onMessage = useCallback(
    (message: AlertFeedMessage) => {
      const { alert } = message;
      setData((previous) => {
        if (!previous) return previous;
        const known = previous.alerts.some((a) => a.id === alert.id);
        if (known) return { alerts: previous.alerts.map((a) => (a.id === alert.id ? alert : a)) };
        if (message.type === 'alert' && filter !== 'acknowledged')
          return { alerts: [alert, ...previous.alerts] };
        return previous;
      });
      if (message.type === 'alert') {
        setFresh((previous) => new Set(previous).add(alert.id));
        setAnnouncement(
          t('alerts.newAlert', { severity: t(`severity.${alert.severity}`), title: alert.title }),
        );
      }
    },
    [setData, filter, t],
  );

  const feed = useAlertFeed(onMessage, reload);

  const acknowledge = async (alert: Alert) => {
    const result = await acting.run(() => api.acknowledgeAlert(alert.id));
    if (!result.ok) return;
    const updated = result.value.alert;
    setData((previous) =>
      previous ? { alerts: previous.alerts.map((a) => (a.id === updated.id ? updated : a)) } : previous,
    );
    setAnnouncement(t('alerts.acknowledgedDone', { title: updated.title }));
  };

  return (
    <Page title={t('alerts.title')} wide>
      <div className="toolbar">
        <SelectField
          id="alerts-filter"
          label={t('alerts.filter')}
          value={filter}
          onChange={(event) => {
            const next = filters.find((f) => f.value === event.target.value);
            if (next) setFilter(next.value);
          }}
        >
          {filters.map((f) => (
            <option key={f.value} value={f.value}>
              {t(f.label)}
            </option>
          ))}
        </SelectField>
        <p className={`feed feed-${feed}`}>
          <span className="feed-dot" aria-hidden="true" />
          {t(feedLabels[feed])}
        </p>
      </div>
      <StatusMessage message={announcement} />
      <ErrorMessage error={acting.error ?? alerts.error} />

      {alerts.data ? (
        alerts.data.alerts.length === 0 ? (
          <p className="empty">{t('alerts.empty')}</p>
        ) : (
          <div className="table-wrap">
            <table className="table table-alerts">
              <thead>
                <tr>
                  <th scope="col">{t('alerts.time')}</th>
                  <th scope="col">{t('alerts.severity')}</th>
                  <th scope="col">{t('alerts.source')}</th>
                  <th scope="col">{t('alerts.alert')}</th>
                  <th scope="col">{t('alerts.state')}</th>
                </tr>
              </thead>
              <tbody>
                {alerts.data.alerts.map((alert) => (
                  <tr
                    key={alert.id}
                    className={`row-severity-${alert.severity}${fresh.has(alert.id) ? ' row-fresh' : ''}`}
                  >
                    <td>
                      <time dateTime={alert.createdAt}>{formatDateTime(alert.createdAt)}</time>
                    </td>
                    <td>
                      <SeverityBadge severity={alert.severity} />
                    </td>
                    <td>{t(`source.${alert.source}`)}</td>
                    <th scope="row" className="cell-title">
                      {alert.title}
                      <Details details={alert.details} />
                    </th>
                    <td>
                      {alert.acknowledgedAt === null ? (
                        <button
                          type="button"
                          className="button button-small"
                          disabled={acting.busy}
                          onClick={() => void acknowledge(alert)}
                        >
                          {t('alerts.acknowledge')}
                        </button>
                      ) : (
                        <span className="muted">
                          {t('alerts.acknowledgedBy', {
                            who: alert.acknowledgedBy ?? t('common.none'),
                            date: formatDateTime(alert.acknowledgedAt),
                          })}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : (
        <StatusMessage message={alerts.loading ? t('app.loading') : undefined} />
      )}
    </Page>
  );
}
