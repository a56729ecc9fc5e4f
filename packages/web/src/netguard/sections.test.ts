import { describe, expect, it } from 'vitest';
import { netguardPath, netguardSectionOf, netguardSections } from './sections';

describe('the network guard’s sections', () => {
  it('each have an address that leads back to them', () => {
    for (const section of netguardSections) {
      const rest = netguardPath(section).replace(/^\/netguard\/?/, '');
      expect(netguardSectionOf(rest)).toBe(section);
    }
  });

  it('put the overview at the guard’s own address', () => {
    expect(netguardPath('overview')).toBe('/netguard');
    expect(netguardPath('devices')).toBe('/netguard/devices');
  });
});
