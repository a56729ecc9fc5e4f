import { describe, expect, it } from 'vitest';
import { watchPath, watchSectionOf, watchSections } from './sections';

describe('the server watch’s sections', () => {
  it('each have an address that leads back to them', () => {
    for (const section of watchSections) {
      const rest = watchPath(section).replace(/^\/watch\/?/, '');
      expect(watchSectionOf(rest)).toBe(section);
    }
  });

  it('put the overview at the watch’s own address, and no section under a second name', () => {
    expect(watchPath('overview')).toBe('/watch');
    expect(watchPath('blocks')).toBe('/watch/blocks');
    expect(watchSectionOf('overview')).toBeUndefined();
    expect(watchSectionOf('settings')).toBeUndefined();
  });
});
