/**
 * The network guard, for administrators: a filtering DNS resolver with a policy per group of
 * clients, and the compliance of the institution's devices. One section at a time, each at its
 * own address.
 */
import type { NetguardSection } from '../netguard/sections';
import { NetguardDevicesPage } from './netguard-devices.page';
import { NetguardGroupsPage } from './netguard-groups.page';
import { NetguardListsPage } from './netguard-lists.page';
import { NetguardOverviewPage } from './netguard-overview.page';
import { NetguardTestPage } from './netguard-test.page';

export function NetguardPage({ section }: { section: NetguardSection }) {
  switch (section) {
    case 'overview':
      return <NetguardOverviewPage />;
    case 'test':
      return <NetguardTestPage />;
    case 'groups':
      return <NetguardGroupsPage />;
    case 'lists':
      return <NetguardListsPage />;
    case 'devices':
      return <NetguardDevicesPage />;
  }
}
