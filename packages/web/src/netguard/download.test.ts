import { describe, expect, it } from 'vitest';
import { attachmentName, policyFileName } from './download';

describe('the name a downloaded profile is saved under', () => {
  it('is the one the server gives', () => {
    expect(attachmentName('attachment; filename="rempart-cabinet.mobileconfig"', 'x')).toBe(
      'rempart-cabinet.mobileconfig',
    );
    expect(attachmentName('attachment; filename=rempart-cabinet-android-policy.json', 'x')).toBe(
      'rempart-cabinet-android-policy.json',
    );
  });

  it('prefers the UTF-8 form of the name (RFC 6266)', () => {
    expect(
      attachmentName(`attachment; filename="cabinet.json"; filename*=UTF-8''cabinet%C3%A9.json`, 'x'),
    ).toBe('cabineté.json');
  });

  it('never keeps a path, and falls back when the server names nothing usable', () => {
    expect(attachmentName('attachment; filename="../../etc/passwd"', 'fallback')).toBe('passwd');
    expect(attachmentName('attachment; filename=".."', 'fallback')).toBe('fallback');
    expect(attachmentName('attachment', 'fallback')).toBe('fallback');
    expect(attachmentName(null, 'fallback')).toBe('fallback');
  });

  it('follows the server’s own pattern when it names none', () => {
    expect(policyFileName('ios', 'cabinet')).toBe('rempart-cabinet.mobileconfig');
    expect(policyFileName('android', 'cabinet')).toBe('rempart-cabinet-android-policy.json');
  });
});
