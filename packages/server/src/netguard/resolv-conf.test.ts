import { describe, expect, it } from 'vitest';
import { parseResolvConf } from './resolv-conf.js';

describe('parseResolvConf', () => {
  it('reads the nameservers in order and ignores everything else', () => {
    const text = [
      '# generated',
      'search example.gouv.fr',
      'nameserver 10.0.0.53',
      'options edns0 trust-ad',
      '  nameserver fe80::1%eth0',
      'nameserver not-an-address',
      'nameserver 9.9.9.9',
    ].join('\n');
    expect(parseResolvConf(text)).toEqual([
      { host: '10.0.0.53', port: 53 },
      { host: 'fe80::1', port: 53 },
      { host: '9.9.9.9', port: 53 },
    ]);
  });

  it('gives nothing for an empty file', () => {
    expect(parseResolvConf('')).toEqual([]);
  });
});
