import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyValues, postfixClient } from './fields.js';

describe('key=value pairs', () => {
  it('read bracketed values with spaces and commas, bare flags, renames and numbers', () => {
    expect(
      keyValues(
        'user=<a b, c>, method=PLAIN, rip=192.0.2.1, mpid=77, TLS, session=<x>',
        {},
        new Map([['rip', 'src_ip']]),
        new Set(['mpid']),
      ),
    ).toEqual({ user: 'a b, c', method: 'PLAIN', src_ip: '192.0.2.1', mpid: 77, TLS: true, session: 'x' });
    expect(keyValues('ehlo=1 auth=0/1 quit=1 commands=2/3', {})).toEqual({
      ehlo: '1',
      auth: '0/1',
      quit: '1',
      commands: '2/3',
    });
    expect(keyValues('user=<unterminated, x=1', {})).toEqual({ user: 'unterminated, x=1' });
  });

  it('read back any pairs written the way Postfix and Dovecot write them', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/).filter((k) => k !== '__proto__');
    const plain = fc.stringMatching(/^[^\s,<>]{0,20}$/);
    const bracketed = fc.stringMatching(/^[^>]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, fc.boolean(), plain, bracketed), { selector: ([k]) => k, maxLength: 8 }),
        fc.constantFrom(', ', ' '),
        (pairs, separator) => {
          const text = pairs.map(([k, b, p, q]) => (b ? `${k}=<${q}>` : `${k}=${p}`)).join(separator);
          const expected = Object.fromEntries(pairs.map(([k, b, p, q]) => [k, b ? q : p]));
          expect(keyValues(text, {})).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throw, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const out = keyValues(text, {});
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a Postfix client', () => {
  it('gives host, address and port, and no address for unknown', () => {
    const out = {};
    expect(postfixClient('mail.example[203.0.113.4]:2525', out)).toBe(true);
    expect(out).toEqual({ client_host: 'mail.example', src_ip: '203.0.113.4', src_port: 2525 });
    const unknown = {};
    expect(postfixClient('unknown[unknown]', unknown)).toBe(true);
    expect(unknown).toEqual({ client_host: 'unknown' });
    expect(postfixClient('no brackets here', {})).toBe(false);
  });
});
