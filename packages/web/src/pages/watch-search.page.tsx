/**
 * A search of the events the watch stored: the query lives in the address (`?q=`), so a search
 * is shared by its link and the browser's back button returns to the one before. Pages of older
 * events follow the cursor of the last one read.
 */
import type { WatchEventView } from '@rempart/core';
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { TextField } from '../components/fields';
import { ErrorMessage, StatusMessage } from '../components/messages';
import { EventTable } from '../components/serverwatch/event-table';
import { inputRefusal } from '../components/serverwatch/refusal';
import { SearchHelp } from '../components/serverwatch/search-help';
import { WatchFrame } from '../components/serverwatch/watch-frame';
import { WindowField } from '../components/serverwatch/window-field';
import { useAction, useLoad } from '../hooks';
import { useI18n } from '../i18n';
import { navigate, useLocationSearch } from '../router';
import { eventsSearch, readSearchView, searchHref, type SearchView } from '../serverwatch/query';

const PAGE_SIZE = 100;

/** The first page's events and those of the older pages read since, for one search. */
function Results({
  view,
  first,
}: {
  view: SearchView;
  first: { now: number; events: WatchEventView[]; next: string | null };
}) {
  const { t, formatNumber } = useI18n();
  const [older, setOlder] = useState<WatchEventView[]>([]);
  const [next, setNext] = useState(first.next);
  const paging = useAction();
  const events = [...first.events, ...older];

  const loadOlder = async () => {
    if (next === null) return;
    const result = await paging.run(() => api.watch.events(eventsSearch(view, first.now, next, PAGE_SIZE)));
    if (!result.ok) return;
    setOlder((previous) => [...previous, ...result.value.events]);
    setNext(result.value.next);
  };

  if (events.length === 0) return <p className="empty">{t('watch.search.none')}</p>;
  return (
    <>
      <EventTable events={events} />
      <p className="muted" data-testid="watch-search-count">
        {t('watch.search.showing', { count: formatNumber(events.length) })}
      </p>
      <ErrorMessage error={paging.error} />
      {next === null ? (
        <p className="muted">{t('watch.search.end')}</p>
      ) : (
        <button type="button" className="button" disabled={paging.busy} onClick={() => void loadOlder()}>
          {t('watch.search.older')}
        </button>
      )}
    </>
  );
}

export function WatchSearchPage() {
  const { t } = useI18n();
  const search = useLocationSearch();
  const view = readSearchView(search);
  const [text, setText] = useState(view.q);

  // Back and forward load another search: the box shows it.
  useEffect(() => setText(view.q), [view.q]);

  const first = useLoad(async () => {
    const now = Date.now();
    const page = await api.watch.events(eventsSearch(view, now, undefined, PAGE_SIZE));
    return { now, ...page };
  }, [view.q, view.hours]);
  const refusal = inputRefusal(first.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const href = searchHref({ ...view, q: text });
    // The same search again reads it again (new events may have arrived).
    if (href === `${location.pathname}${location.search}`) first.reload();
    else navigate(href);
  };

  return (
    <WatchFrame section="search">
      <form className="watch-search" role="search" onSubmit={submit} noValidate>
        <TextField
          id="watch-query"
          label={t('watch.search.query')}
          hint={t('watch.search.queryHint')}
          problem={refusal}
          className="watch-query"
          type="search"
          value={text}
          maxLength={1000}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" className="button button-primary">
          {t('watch.search.submit')}
        </button>
      </form>
      <SearchHelp id="watch-search-help" />
      <div className="toolbar">
        <WindowField
          name="watch-search-window"
          value={view.hours}
          onChange={(hours) => navigate(searchHref({ q: view.q, hours }))}
        />
      </div>
      {/* The refusal is announced here, and stays beside the box it is about. */}
      <div role="alert" aria-atomic="true" className="visually-hidden">
        {refusal}
      </div>
      {refusal === undefined ? <ErrorMessage error={first.error} /> : null}
      {first.data && first.error === undefined ? (
        <Results key={`${search}@${first.data.now}`} view={view} first={first.data} />
      ) : (
        <StatusMessage message={first.loading ? t('app.loading') : undefined} />
      )}
    </WatchFrame>
  );
}
