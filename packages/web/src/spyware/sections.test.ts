import { describe, expect, it } from 'vitest';
import { spywareDevicePath, spywarePath, spywareSectionOf, spywareSections } from './sections';

describe('the spyware check’s sections', () => {
  it('each have an address that leads back to them', () => {
    for (const section of spywareSections) {
      const rest = spywarePath(section).replace(/^\/spyware\/?/, '');
      expect(spywareSectionOf(rest)).toBe(section);
    }
  });

  it('put the fleet at the section’s own address, and nowhere else', () => {
    expect(spywarePath('fleet')).toBe('/spyware');
    expect(spywareSectionOf('fleet')).toBeUndefined();
    expect(spywareSectionOf('settings')).toBeUndefined();
  });

  it('gives a device an address of its own, its id escaped', () => {
    expect(spywareDevicePath('3d5f2a9e-8b7c-4d6e-9f10-a1b2c3d4e5f6')).toBe(
      '/spyware/devices/3d5f2a9e-8b7c-4d6e-9f10-a1b2c3d4e5f6',
    );
    expect(spywareDevicePath('a/b')).toBe('/spyware/devices/a%2Fb');
  });
});
