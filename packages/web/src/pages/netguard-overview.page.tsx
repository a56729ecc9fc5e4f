/**
 * The network guard at a glance: how many names were asked for and blocked over a window, the
 * plot of both, the names blocked most (and what blocked them), the clients asking most, and
 * the resolver's own counters. Asked again every 10 s while shown, unless the administrator
 * stops it (WCAG 2.2 §2.2.2: content that updates itself can be paused).
 */
import type { QueryStats } from '@rempart/core';
import { Fragment, useEffect, useState } from 'react';
import { api } from '../api';
import { CheckboxField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { BarList } from '../components/netguard/bar-list';
import { RadioGroupField } from '../components/netguard/fields';
import { NetguardFrame } from '../components/netguard/netguard-frame';
import { BlockSourceName } from '../components/netguard/verdict-view';
import { TrafficChart } from '../components/netguard/traffic-chart';
import { useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { STATS_REFRESH_MS, blockSource, share, statsWindows, type StatsWindow } from '../netguard/stats';

function Totals({ stats }: { stats: QueryStats }) {
  const { t, formatNumber, language } = useI18n();
  const percent = new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 });
  const { totals } = stats;
  const tiles = [
    { key: 'queries', label: t('netguard.overview.queries'), value: formatNumber(totals.queries) },
    {
      key: 'blocked',
      label: t('netguard.overview.blocked'),
      value: formatNumber(totals.blocked),
      note: t('netguard.overview.blockedShare', {
        share: percent.format(share(totals.blocked, totals.queries)),
      }),
    },
    {
      key: 'cached',
      label: t('netguard.overview.cached'),
      value: formatNumber(totals.cached),
      note: t('netguard.overview.cachedShare', {
        share: percent.format(share(totals.cached, totals.queries)),
      }),
    },
    { key: 'clients', label: t('netguard.overview.clients'), value: formatNumber(totals.clients) },
  ];
  return (
    <dl className="stat-tiles" data-testid="netguard-totals">
      {tiles.map((tile) => (
        <div key={tile.key} className={`stat-tile stat-${tile.key}`}>
          <dt>{tile.label}</dt>
          <dd>
            <span className="stat-value">{tile.value}</span>
            {tile.note === undefined ? null : <span className="stat-note">{tile.note}</span>}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function ResolverCounters({ resolver }: { resolver: QueryStats['resolver'] }) {
  const { t, formatNumber } = useI18n();
  if (resolver === undefined) return <p className="empty">{t('netguard.resolver.notRunning')}</p>;
  // The last four are trouble when they are not 0: they are marked (in words too) when they are.
  const counters = [
    ['netguard.resolver.queries', resolver.queries, false],
    ['netguard.resolver.blocked', resolver.blocked, false],
    ['netguard.resolver.cacheHits', resolver.cacheHits, false],
    ['netguard.resolver.upstreamFailures', resolver.upstreamFailures, true],
    ['netguard.resolver.rateLimited', resolver.rateLimited, true],
    ['netguard.resolver.dropped', resolver.dropped, true],
    ['netguard.resolver.notLogged', resolver.notLogged, true],
  ] as const;
  return (
    <dl className="facts" data-testid="netguard-resolver">
      <dt>{t('netguard.resolver.listening')}</dt>
      <dd>
        {resolver.listening.length === 0 ? (
          t('netguard.resolver.notListening')
        ) : (
          <ul className="plain-list">
            {resolver.listening.map((address) => (
              <li key={address}>
                <code>{address}</code>
              </li>
            ))}
          </ul>
        )}
      </dd>
      {counters.map(([key, value, trouble]) => (
        <Fragment key={key}>
          <dt>{t(key)}</dt>
          <dd className={trouble && value > 0 ? 'fact-number fact-trouble' : 'fact-number'}>
            {formatNumber(value)}
            {trouble && value > 0 ? (
              <span className="visually-hidden"> ({t('netguard.resolver.trouble')})</span>
            ) : null}
          </dd>
        </Fragment>
      ))}
    </dl>
  );
}

export function NetguardOverviewPage() {
  const { t, formatNumber, formatTime } = useI18n();
  const [hours, setHours] = useState<StatsWindow>(24);
  const [live, setLive] = useState(true);
  const stats = useLoad(() => api.netguard.stats(hours), [hours]);
  const { reload } = stats;

  useEffect(() => {
    if (!live) return;
    // A hidden tab asks nothing; it catches up on the next tick after it is shown again.
    const timer = window.setInterval(() => {
      if (!document.hidden) reload();
    }, STATS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [live, reload]);

  const data = stats.data;
  const windowLabels: Readonly<Record<StatsWindow, string>> = {
    1: t('netguard.overview.window1'),
    24: t('netguard.overview.window24'),
    168: t('netguard.overview.window168'),
  };

  return (
    <NetguardFrame section="overview">
      <div className="toolbar netguard-toolbar">
        <RadioGroupField
          name="netguard-window"
          legend={t('netguard.overview.window')}
          className="choice-inline"
          options={statsWindows.map((value) => ({ value: String(value), label: windowLabels[value] }))}
          value={String(hours)}
          onChange={(value) => {
            const next = statsWindows.find((window) => String(window) === value);
            if (next !== undefined) setHours(next);
          }}
        />
        <div className="refresh">
          <CheckboxField
            id="netguard-live"
            label={t('netguard.overview.live')}
            checked={live}
            onChange={(event) => setLive(event.target.checked)}
          />
          {data ? (
            <p className="muted refresh-time">
              {t('netguard.overview.updated', { time: formatTime(data.to) })}
            </p>
          ) : null}
        </div>
      </div>
      <ErrorMessage error={stats.error} />

      {data ? (
        <>
          <Totals stats={data} />
          <section className="card" aria-labelledby="netguard-traffic">
            <h2 id="netguard-traffic">{t('netguard.chart.title')}</h2>
            <TrafficChart stats={data} hours={hours} />
          </section>
          <div className="grid-2">
            <section className="card" aria-labelledby="netguard-top-blocked">
              <h2 id="netguard-top-blocked">{t('netguard.overview.topBlocked')}</h2>
              {data.topBlocked.length === 0 ? (
                <p className="muted">{t('netguard.overview.noneBlocked')}</p>
              ) : (
                <BarList
                  tone="blocked"
                  testId="netguard-top-blocked"
                  bars={data.topBlocked.map((entry) => ({
                    key: entry.name,
                    label: <code>{entry.name}</code>,
                    value: entry.count,
                    valueText: t('netguard.overview.times', { count: formatNumber(entry.count) }),
                    note:
                      entry.list === '' ? undefined : (
                        <>
                          {t('netguard.overview.blockedBy')}{' '}
                          <BlockSourceName source={blockSource(entry.list)} />
                        </>
                      ),
                  }))}
                />
              )}
            </section>
            <section className="card" aria-labelledby="netguard-top-clients">
              <h2 id="netguard-top-clients">{t('netguard.overview.topClients')}</h2>
              {data.topClients.length === 0 ? (
                <p className="muted">{t('netguard.overview.noClients')}</p>
              ) : (
                <BarList
                  testId="netguard-top-clients"
                  bars={data.topClients.map((entry) => ({
                    key: entry.client,
                    label: <code>{entry.client}</code>,
                    value: entry.queries,
                    part: entry.blocked,
                    valueText: t('netguard.overview.clientFigures', {
                      queries: formatNumber(entry.queries),
                      blocked: formatNumber(entry.blocked),
                    }),
                  }))}
                />
              )}
            </section>
          </div>
          <section className="card" aria-labelledby="netguard-resolver">
            <h2 id="netguard-resolver">{t('netguard.resolver.title')}</h2>
            <p className="muted">{t('netguard.resolver.intro')}</p>
            <ResolverCounters resolver={data.resolver} />
          </section>
        </>
      ) : (
        <StatusMessage message={stats.loading ? t('app.loading') : undefined} />
      )}
    </NetguardFrame>
  );
}
