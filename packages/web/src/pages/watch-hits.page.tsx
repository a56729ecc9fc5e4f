/**
 * The rules' hits, newest first, over a window: all of them, one rule's, or one retro-hunt's
 * (whatever their time). Each opens onto the events its alert carries; the alerts are read only
 * when someone first opens a hit.
 */
import type { Alert, WatchHitView } from '@rempart/core';
import { useState } from 'react';
import { api } from '../api';
import { SelectField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { HitTable, type HitAlerts } from '../components/serverwatch/hit-table';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { WindowField } from '../components/serverwatch/window-field';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { Link, navigate, useLocationSearch } from '../router';
import { hitsHref, hitsSearch, readHitsView, type HitsView } from '../serverwatch/query';
import { rulesByHits } from '../serverwatch/format';
import { windowBounds } from '../serverwatch/timeline';

const PAGE_SIZE = 100;

function Results({
  view,
  first,
}: {
  view: HitsView;
  first: { now: number; hits: WatchHitView[]; next: string | null };
}) {
  const { t, formatNumber } = useI18n();
  const [older, setOlder] = useState<WatchHitView[]>([]);
  const [next, setNext] = useState(first.next);
  const [alerts, setAlerts] = useState<HitAlerts>({ byId: undefined, loading: false });
  const paging = useAction();
  const reading = useAction();
  const hits = [...first.hits, ...older];

  const loadOlder = async () => {
    if (next === null) return;
    const result = await paging.run(() => api.watch.hits(hitsSearch(view, first.now, next, PAGE_SIZE)));
    if (!result.ok) return;
    setOlder((previous) => [...previous, ...result.value.hits]);
    setNext(result.value.next);
  };

  const onOpen = (hit: WatchHitView) => {
    if (hit.alertId === null || alerts.byId !== undefined || alerts.loading) return;
    setAlerts({ byId: undefined, loading: true });
    void reading.run(async () => {
      try {
        const { alerts: list } = await api.watch.alerts();
        setAlerts({ byId: new Map(list.map((alert: Alert) => [alert.id, alert])), loading: false });
      } catch (error) {
        setAlerts({ byId: undefined, loading: false });
        throw error;
      }
    });
  };

  if (hits.length === 0) return <p className="empty">{t('watch.hits.none')}</p>;
  return (
    <>
      <HitTable hits={hits} alerts={alerts} hours={view.hours} onOpen={onOpen} />
      <ErrorMessage error={reading.error ?? paging.error} />
      <p className="muted">{t('watch.hits.showing', { count: formatNumber(hits.length) })}</p>
      {next === null ? (
        <p className="muted">{t('watch.hits.end')}</p>
      ) : (
        <button type="button" className="button" disabled={paging.busy} onClick={() => void loadOlder()}>
          {t('watch.hits.older')}
        </button>
      )}
    </>
  );
}

export function WatchHitsPage() {
  const { t } = useI18n();
  const search = useLocationSearch();
  const view = readHitsView(search);
  const first = useLoad(async () => {
    const now = Date.now();
    const page = await api.watch.hits(hitsSearch(view, now, undefined, PAGE_SIZE));
    return { now, ...page };
  }, [view.ruleId, view.hunt, view.hours]);
  // The rules that fired over the window, to filter by; a hunt's hits are filtered by link only.
  const rules = useLoad(
    () =>
      view.hunt === undefined
        ? api.watch.rules(windowBounds(view.hours, Date.now())).then((answer) => rulesByHits(answer.rules))
        : Promise.resolve([]),
    [view.hours, view.hunt],
  );
  const ruleChoices = rules.data ?? [];
  const chosenMissing = view.ruleId !== undefined && !ruleChoices.some((rule) => rule.ruleId === view.ruleId);

  return (
    <WatchFrame section="hits">
      {view.hunt === undefined ? null : (
        <p className="message message-info watch-hunt-note" data-testid="watch-hunt-note">
          {t('watch.hits.ofHunt', { hunt: view.hunt })}{' '}
          <Link to={hitsHref({ ruleId: view.ruleId })}>{t('watch.hits.liveInstead')}</Link>
        </p>
      )}
      <div className="toolbar">
        {view.hunt === undefined ? (
          <>
            <SelectField
              id="watch-hits-rule"
              label={t('watch.hits.rule')}
              value={view.ruleId ?? ''}
              onChange={(event) =>
                navigate(
                  hitsHref({ ...view, ruleId: event.target.value === '' ? undefined : event.target.value }),
                )
              }
            >
              <option value="">{t('watch.hits.allRules')}</option>
              {chosenMissing && view.ruleId !== undefined ? (
                <option value={view.ruleId}>{view.ruleId}</option>
              ) : null}
              {ruleChoices.map((rule) => (
                <option key={rule.ruleId} value={rule.ruleId}>
                  {rule.title}
                </option>
              ))}
            </SelectField>
            <WindowField
              name="watch-hits-window"
              value={view.hours}
              onChange={(hours) => navigate(hitsHref({ ...view, hours }))}
            />
          </>
        ) : view.ruleId === undefined ? null : (
          <p>
            {t('watch.hits.ofRule', { rule: view.ruleId })}{' '}
            <Link to={hitsHref({ hunt: view.hunt })}>{t('watch.hits.allOfHunt')}</Link>
          </p>
        )}
      </div>
      <ErrorMessage error={first.error ?? rules.error} />
      {first.data && first.error === undefined ? (
        <Results key={`${search}@${first.data.now}`} view={view} first={first.data} />
      ) : (
        <StatusMessage message={first.loading ? t('app.loading') : undefined} />
      )}
    </WatchFrame>
  );
}
