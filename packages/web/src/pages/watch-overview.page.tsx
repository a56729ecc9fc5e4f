/**
 * The server watch at a glance: the alerts timeline and the rules that fired over a window, then
 * what the watch receives, holds, runs and answers with. A new alert of the watch on the live
 * feed updates the timeline and the counts (at most one reading every few seconds, however many
 * arrive); the administrator can stop the updates (WCAG 2.2 §2.2.2).
 */
import type { AlertFeedMessage } from '@rempart/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useAlertFeed, type FeedStatus } from '../alert-feed';
import { api } from '../api';
import { CheckboxField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { RuleTable } from '../components/serverwatch/rule-table';
import { StatusView } from '../components/serverwatch/status-view';
import { TimelineChart } from '../components/serverwatch/timeline-chart';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { WindowField } from '../components/serverwatch/window-field';
import { useLoad } from '../hooks';
import { useI18n, type MessageKey } from '../i18n';
import { LARGEST_PAGE, collectHits, hitsHref, hitsSearch } from '../serverwatch/query';
import {
  DEFAULT_WATCH_WINDOW,
  bucketHits,
  bucketMs,
  windowBounds,
  type WatchWindow,
} from '../serverwatch/timeline';

/** The shortest time between two readings caused by the live feed. */
const LIVE_RELOAD_MS = 2000;
/** How often the status is read again while the page is shown and live. */
const STATUS_REFRESH_MS = 10_000;

const feedLabels: Readonly<Record<FeedStatus, MessageKey>> = {
  connecting: 'watch.feed.connecting',
  live: 'watch.feed.live',
  reconnecting: 'watch.feed.reconnecting',
};

export function WatchOverviewPage() {
  const { t, formatTime } = useI18n();
  const [hours, setHours] = useState<WatchWindow>(DEFAULT_WATCH_WINDOW);
  const [live, setLive] = useState(true);
  const [announcement, setAnnouncement] = useState<string>();
  const status = useLoad(() => api.watch.status(), []);
  const timeline = useLoad(async () => {
    const now = Date.now();
    const window = windowBounds(hours, now);
    const [collected, counts] = await Promise.all([
      collectHits((before) => api.watch.hits(hitsSearch({ hours }, now, before, LARGEST_PAGE))),
      api.watch.rules(window),
    ]);
    const buckets = bucketHits(
      collected.hits.map((hit) => ({ at: hit.at, level: hit.rule.level, count: hit.count })),
      Date.parse(window.from),
      now,
      bucketMs(hours),
    );
    return { at: window.to, buckets, complete: collected.complete, rules: counts.rules };
  }, [hours]);
  const reloadTimeline = timeline.reload;
  const reloadStatus = status.reload;

  // One reading for a burst of alerts: the first schedules it, the others find it pending.
  const pending = useRef<number | undefined>(undefined);
  const reloadSoon = useCallback(() => {
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      reloadTimeline();
      reloadStatus();
    }, LIVE_RELOAD_MS);
  }, [reloadTimeline, reloadStatus]);
  useEffect(
    () => () => {
      if (pending.current !== undefined) window.clearTimeout(pending.current);
    },
    [],
  );

  const onMessage = useCallback(
    (message: AlertFeedMessage) => {
      if (message.type !== 'alert' || message.alert.source !== 'serverwatch' || !live) return;
      setAnnouncement(
        t('alerts.newAlert', {
          severity: t(`severity.${message.alert.severity}`),
          title: message.alert.title,
        }),
      );
      reloadSoon();
    },
    [live, reloadSoon, t],
  );
  const onGap = useCallback(() => {
    if (live) reloadSoon();
  }, [live, reloadSoon]);
  const feed = useAlertFeed(onMessage, onGap);

  useEffect(() => {
    if (!live) return;
    const timer = window.setInterval(() => {
      if (!document.hidden) reloadStatus();
    }, STATUS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [live, reloadStatus]);

  const data = timeline.data;
  return (
    <WatchFrame section="overview">
      <div className="toolbar watch-toolbar">
        <WindowField name="watch-window" value={hours} onChange={setHours} />
        <div className="refresh">
          <CheckboxField
            id="watch-live"
            label={t('watch.overview.live')}
            checked={live}
            onChange={(event) => setLive(event.target.checked)}
          />
          <p className={`feed feed-${feed}`}>
            <span className="feed-dot" aria-hidden="true" />
            {t(feedLabels[feed])}
          </p>
          {data ? (
            <p className="muted refresh-time">{t('watch.overview.updated', { time: formatTime(data.at) })}</p>
          ) : null}
        </div>
      </div>
      <StatusMessage message={announcement} />
      <ErrorMessage error={timeline.error} />

      <section className="card" aria-labelledby="watch-timeline-title">
        <h2 id="watch-timeline-title">{t('watch.timeline.title')}</h2>
        {data ? (
          <TimelineChart buckets={data.buckets} hours={hours} complete={data.complete} />
        ) : (
          <StatusMessage message={timeline.loading ? t('app.loading') : undefined} />
        )}
      </section>
      <section className="card" aria-labelledby="watch-rules-title">
        <h2 id="watch-rules-title">{t('watch.rules.title')}</h2>
        {data ? (
          <RuleTable rules={data.rules} hrefOf={(rule) => hitsHref({ ruleId: rule.ruleId, hours })} />
        ) : null}
      </section>

      <ErrorMessage error={status.error} />
      {status.data ? <StatusView status={status.data} /> : null}
    </WatchFrame>
  );
}
