/**
 * The server watch at a glance: the alerts timeline and the rules that fired over a window, then
 * what the watch receives, holds, runs and answers with. A new alert of the watch on the live
 * feed updates the timeline and the counts (at most one reading every few seconds, however many
 * arrive); the administrator can stop the updates (WCAG 2.2 §2.2.2).
 */
import type { AlertFeedMessage, RuleCount, WatchHitView } from '@rempart/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useAlertFeed, type FeedStatus } from '../alert-feed';
import { api } from '../api';
import { CheckboxField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { RuleTable } from '../components/serverwatch/rule-table';
import { StatusView } from '../components/serverwatch/status-view';
import { TimelineChart } from '../components/serverwatch/timeline-chart';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { WindowField } from '../components/serverwatch/window-field';
import { useAction, useLoad } from '../hooks';
import { useI18n, type MessageKey } from '../i18n';
import { LARGEST_PAGE, collectHits, hitsHref, hitsSearch, hitsSinceSearch } from '../serverwatch/query';
import {
  DEFAULT_WATCH_WINDOW,
  bucketHits,
  bucketMs,
  mergeHits,
  windowBounds,
  type KnownHit,
  type WatchWindow,
} from '../serverwatch/timeline';

/** The shortest time between two readings caused by the live feed. */
const LIVE_RELOAD_MS = 2000;
/** How far before the newest hit known a live reading starts, for hits merged meanwhile. */
const LIVE_OVERLAP_MS = 15 * 60_000;
/** Pages of new hits a live reading takes before reading the whole window again instead. */
const LIVE_MAX_PAGES = 2;

/** What the timeline and the rule table are drawn from, and the window they cover. */
interface TimelineData {
  hours: WatchWindow;
  /** The window's end. */
  at: string;
  hits: KnownHit[];
  complete: boolean;
  rules: RuleCount[];
}

const knownHit = (hit: WatchHitView): KnownHit => ({
  id: hit.id,
  at: hit.at,
  level: hit.rule.level,
  count: hit.count,
});
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
  const liveReading = useAction();
  const status = useLoad(() => api.watch.status(), []);
  const timeline = useLoad(async (): Promise<TimelineData> => {
    const now = Date.now();
    const window = windowBounds(hours, now);
    const [collected, counts] = await Promise.all([
      collectHits((before) => api.watch.hits(hitsSearch({ hours }, now, before, LARGEST_PAGE))),
      api.watch.rules(window),
    ]);
    return {
      hours,
      at: window.to,
      hits: collected.hits.map(knownHit),
      complete: collected.complete,
      rules: counts.rules,
    };
  }, [hours]);
  const { reload: reloadTimeline, setData: setTimeline } = timeline;
  const reloadStatus = status.reload;

  /**
   * After new alerts: only the hits since the newest one known are read (with some overlap, for
   * hits that merged duplicates meanwhile), merged in, and the window moved on to now; the whole
   * window is read again only when that is more than a couple of pages.
   */
  const readNewHits = async (current: TimelineData) => {
    const now = Date.now();
    const window = windowBounds(current.hours, now);
    const from = Date.parse(window.from);
    const newest = current.hits[0] === undefined ? from : Date.parse(current.hits[0].at) - LIVE_OVERLAP_MS;
    const since = new Date(Math.max(from, newest)).toISOString();
    const [fresh, counts] = await Promise.all([
      collectHits(
        (before) => api.watch.hits(hitsSinceSearch(since, now, before, LARGEST_PAGE)),
        LIVE_MAX_PAGES,
      ),
      api.watch.rules(window),
    ]);
    if (!fresh.complete) {
      reloadTimeline();
      return;
    }
    setTimeline((previous) =>
      previous === undefined || previous.hours !== current.hours
        ? previous
        : {
            ...previous,
            at: window.to,
            hits: mergeHits(previous.hits, fresh.hits.map(knownHit), from),
            rules: counts.rules,
          },
    );
  };
  const latest = useRef({ data: timeline.data, readNewHits, run: liveReading.run });
  useEffect(() => {
    latest.current = { data: timeline.data, readNewHits, run: liveReading.run };
  });

  // One reading for a burst of alerts: the first schedules it, the others find it pending.
  const pending = useRef<number | undefined>(undefined);
  const reloadSoon = useCallback(() => {
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      reloadStatus();
      const { data, readNewHits: read, run } = latest.current;
      if (data === undefined) reloadTimeline();
      else void run(() => read(data));
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
  // Alerts raised while the feed was down were missed: the whole window is read again.
  const onGap = useCallback(() => {
    if (!live) return;
    reloadTimeline();
    reloadStatus();
  }, [live, reloadTimeline, reloadStatus]);
  const feed = useAlertFeed(onMessage, onGap);

  useEffect(() => {
    if (!live) return;
    const timer = window.setInterval(() => {
      if (!document.hidden) reloadStatus();
    }, STATUS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [live, reloadStatus]);

  const buckets = useMemo(() => {
    const data = timeline.data;
    if (data === undefined) return undefined;
    const to = Date.parse(data.at);
    return bucketHits(data.hits, Date.parse(windowBounds(data.hours, to).from), to, bucketMs(data.hours));
  }, [timeline.data]);

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
      <ErrorMessage error={timeline.error ?? liveReading.error} />

      <section className="card" aria-labelledby="watch-timeline-title">
        <h2 id="watch-timeline-title">{t('watch.timeline.title')}</h2>
        {data && buckets ? (
          <TimelineChart buckets={buckets} hours={data.hours} complete={data.complete} />
        ) : (
          <StatusMessage message={timeline.loading ? t('app.loading') : undefined} />
        )}
      </section>
      <section className="card" aria-labelledby="watch-rules-title">
        <h2 id="watch-rules-title">{t('watch.rules.title')}</h2>
        {data ? (
          <RuleTable
            rules={data.rules}
            hrefOf={(rule) => hitsHref({ ruleId: rule.ruleId, hours: data.hours })}
          />
        ) : null}
      </section>

      <ErrorMessage error={status.error} />
      {status.data ? <StatusView status={status.data} /> : null}
    </WatchFrame>
  );
}
