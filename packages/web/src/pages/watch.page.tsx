/**
 * The server watch, for administrators: Sigma rules over the logs of the mail and identity
 * servers, as a live service. One section at a time, each at its own address.
 */
import type { WatchSection } from '../serverwatch/sections';
import { WatchBlocksPage } from './watch-blocks.page';
import { WatchHitsPage } from './watch-hits.page';
import { WatchHuntPage } from './watch-hunt.page';
import { WatchOverviewPage } from './watch-overview.page';
import { WatchSearchPage } from './watch-search.page';

export function WatchPage({ section }: { section: WatchSection }) {
  switch (section) {
    case 'overview':
      return <WatchOverviewPage />;
    case 'search':
      return <WatchSearchPage />;
    case 'hits':
      return <WatchHitsPage />;
    case 'hunt':
      return <WatchHuntPage />;
    case 'blocks':
      return <WatchBlocksPage />;
  }
}
