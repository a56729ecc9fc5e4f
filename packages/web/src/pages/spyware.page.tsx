/**
 * The spyware check, for administrators: the fleet's state, a check to request, and the
 * indicators scans and the DNS guard look for. One section at a time, each at its own address.
 */
import type { SpywareSection } from '../spyware/sections';
import { SpywareFleetPage } from './spyware-fleet.page';
import { SpywareIndicatorsPage } from './spyware-indicators.page';
import { SpywareRequestPage } from './spyware-request.page';

export function SpywarePage({ section }: { section: SpywareSection }) {
  switch (section) {
    case 'fleet':
      return <SpywareFleetPage />;
    case 'request':
      return <SpywareRequestPage />;
    case 'indicators':
      return <SpywareIndicatorsPage />;
  }
}
