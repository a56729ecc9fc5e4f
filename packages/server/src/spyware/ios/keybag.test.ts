import { pbkdf2Sync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesWrap, buildBackupKeybag, KEYBAG_CLASSES, keybagRecord } from '../../test-support/ios-backup.js';
import {
  aesUnwrap,
  MAX_ITERATIONS,
  parseKeybag,
  passwordKey,
  unwrapClassKeys,
  type Keybag,
} from './keybag.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** The keybag of `bytes`, failing the test with the parser's message when it is refused. */
function parsed(bytes: Uint8Array): Keybag {
  const result = parseKeybag(bytes);
  if (!result.ok) throw new Error(result.error);
  return result.keybag;
}

/** A keybag header (everything up to the first class key). */
function header(options: { dpic?: number | null; iter?: number } = {}): Buffer[] {
  return [
    keybagRecord('VERS', 4),
    keybagRecord('TYPE', 1),
    keybagRecord('UUID', randomBytes(16)),
    keybagRecord('WRAP', 0),
    keybagRecord('SALT', randomBytes(20)),
    keybagRecord('ITER', options.iter ?? 10),
    ...(options.dpic === null
      ? []
      : [keybagRecord('DPIC', options.dpic ?? 10), keybagRecord('DPSL', randomBytes(20))]),
  ];
}

function classKey(protectionClass: number, wrapped: Uint8Array = randomBytes(40), wrap = 2): Buffer[] {
  return [
    keybagRecord('UUID', randomBytes(16)),
    keybagRecord('CLAS', protectionClass),
    keybagRecord('WRAP', wrap),
    keybagRecord('KTYP', 0),
    keybagRecord('WPKY', wrapped),
  ];
}

describe('the keybag of an encrypted backup', () => {
  it('reads the header and every class key of a keybag as iOS writes it', () => {
    const { keybag } = buildBackupKeybag('secret', { iterations: 1234, sha1Iterations: 56 });
    const bag = parsed(keybag);
    expect(bag.version).toBe(4);
    expect(bag.type).toBe(1);
    expect(bag.iterations).toBe(56);
    expect(bag.salt).toHaveLength(20);
    expect(bag.dataProtection?.iterations).toBe(1234);
    expect(bag.dataProtection?.salt).toHaveLength(20);
    expect(bag.classKeys.map((k) => k.protectionClass)).toEqual(KEYBAG_CLASSES);
    expect(bag.classKeys.every((k) => k.wrap === 2 && k.wrappedKey.byteLength === 40)).toBe(true);
    expect(bag.classKeys.find((k) => k.protectionClass === 2)?.keyType).toBe(1);
  });

  it('unwraps every class key with the right password, and none with a wrong one', async () => {
    const { keybag, classKeys } = buildBackupKeybag('correct horse', { iterations: 50 });
    const bag = parsed(keybag);
    const unwrapped = unwrapClassKeys(bag, await passwordKey(bag, 'correct horse'));
    expect(unwrapped).toEqual(classKeys);
    expect(unwrapClassKeys(bag, await passwordKey(bag, 'correct hors'))).toBeUndefined();
    expect(unwrapClassKeys(bag, await passwordKey(bag, 'Correct horse'))).toBeUndefined();
  });

  it('derives the key with PBKDF2-SHA256 of the password first, then PBKDF2-SHA1 of that', async () => {
    const bag = parsed(buildBackupKeybag('pw').keybag);
    const stage1 = pbkdf2Sync('pw', bag.dataProtection!.salt, bag.dataProtection!.iterations, 32, 'sha256');
    expect(await passwordKey(bag, 'pw')).toEqual(pbkdf2Sync(stage1, bag.salt, bag.iterations, 32, 'sha1'));
  });

  it('derives the key with PBKDF2-SHA1 of the password alone for a keybag made before iOS 10.2', async () => {
    const bag = parsed(Buffer.concat([...header({ dpic: null, iter: 7 }), ...classKey(3)]));
    expect(bag.dataProtection).toBeUndefined();
    expect(await passwordKey(bag, 'pässword')).toEqual(
      pbkdf2Sync(Buffer.from('pässword', 'utf8'), bag.salt, 7, 32, 'sha1'),
    );
  });

  it('uses the password as UTF-8 bytes', async () => {
    const { keybag, classKeys } = buildBackupKeybag('mot de passe été 🔒', { iterations: 20 });
    const bag = parsed(keybag);
    expect(unwrapClassKeys(bag, await passwordKey(bag, 'mot de passe été 🔒'))).toEqual(classKeys);
  });

  it('leaves out class keys wrapped by the device alone, which only the phone can unwrap', () => {
    const kek = randomBytes(32);
    const key = randomBytes(32);
    const bag = parsed(
      Buffer.concat([...header(), ...classKey(1, randomBytes(40), 1), ...classKey(3, aesWrap(kek, key), 3)]),
    );
    expect(unwrapClassKeys(bag, kek)).toEqual(new Map([[3, key]]));
  });

  it.each([
    ['an empty keybag', Buffer.alloc(0), /the keybag is empty/],
    [
      'a keybag cut inside a value',
      buildBackupKeybag('x').keybag.subarray(0, 36),
      /truncated at byte 24: UUID says 16 bytes, 4 left/,
    ],
    ['a keybag cut inside a tag', buildBackupKeybag('x').keybag.subarray(0, 14), /truncated at byte 12/],
    ['bytes that are not tags', Buffer.from('hello world, not a keybag'), /"hell" is not a keybag tag/],
    ['a header without SALT', Buffer.concat([keybagRecord('VERS', 4), ...classKey(1)]), /SALT .* is missing/],
    [
      'an integer of the wrong size',
      Buffer.concat([keybagRecord('VERS', Buffer.alloc(2)), ...classKey(1)]),
      /VERS must be a 4-byte integer/,
    ],
    ['no class key', Buffer.concat(header()), /no class key/],
    [
      'a class key without its wrapped key',
      Buffer.concat([...header(), ...classKey(1).slice(0, 4)]),
      /class key 1: WPKY .* is missing/,
    ],
    [
      'a wrapped key of the wrong size',
      Buffer.concat([...header(), ...classKey(1, randomBytes(33))]),
      /class key 1: WPKY .* multiple of 8/,
    ],
    [
      'DPIC without DPSL',
      Buffer.concat([...header({ dpic: null }), keybagRecord('DPIC', 10), ...classKey(1)]),
      /DPSL and DPIC go together/,
    ],
    [
      'a tag twice in one record',
      Buffer.concat([...header(), keybagRecord('ITER', 3), ...classKey(1)]),
      /ITER appears twice/,
    ],
    [
      'an iteration count that would take hours',
      Buffer.concat([...header({ dpic: 0xffffffff }), ...classKey(1)]),
      /DPIC must be between 1 and 100,000,000 iterations/,
    ],
    [
      'no iterations at all',
      Buffer.concat([...header({ iter: 0 }), ...classKey(1)]),
      /ITER must be between 1/,
    ],
  ])('refuses %s, saying what is wrong', (_name, bytes, message) => {
    const result = parseKeybag(bytes);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toMatch(message);
  });

  it('accepts iteration counts up to the limit', () => {
    const bag = parsed(Buffer.concat([...header({ dpic: MAX_ITERATIONS }), ...classKey(1)]));
    expect(bag.dataProtection?.iterations).toBe(MAX_ITERATIONS);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const result = parseKeybag(bytes);
        if (result.ok) expect(result.keybag.classKeys.length).toBeGreaterThan(0);
        else expect(result.error).not.toBe('');
      }),
    );
  });

  it('never throws on well-formed records with random tags and values', () => {
    const tags = fc.constantFrom(
      'VERS',
      'TYPE',
      'UUID',
      'HMCK',
      'WRAP',
      'SALT',
      'ITER',
      'DPWT',
      'DPIC',
      'DPSL',
      'CLAS',
      'KTYP',
      'WPKY',
      'PBKY',
    );
    const record = fc.tuple(tags, fc.oneof(fc.nat(), fc.uint8Array({ maxLength: 48 })));
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), (records) => {
        const result = parseKeybag(Buffer.concat(records.map(([t, v]) => keybagRecord(t, v))));
        if (result.ok) expect(result.keybag.classKeys.length).toBeGreaterThan(0);
        else expect(result.error).not.toBe('');
      }),
    );
  });

  it('refuses every cut of a keybag inside a record as truncated, naming the byte', () => {
    const { keybag } = buildBackupKeybag('x');
    // Where each record starts: a cut there leaves whole records, judged on what is missing.
    const starts = new Set<number>();
    for (let at = 0; at < keybag.byteLength; at += 8 + keybag.readUInt32BE(at + 4)) starts.add(at);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: keybag.byteLength - 1 }), (cut) => {
        const result = parseKeybag(keybag.subarray(0, cut));
        if (starts.has(cut)) {
          // The cut falls between records: either a whole keybag with fewer class keys, or one
          // whose last record lacks a value.
          if (result.ok) expect(result.keybag.classKeys.length).toBeLessThan(KEYBAG_CLASSES.length);
          else expect(result.error).not.toMatch(/truncated/);
        } else {
          expect(result.ok).toBe(false);
          expect(result.ok ? '' : result.error).toMatch(/^truncated at byte \d+/);
        }
      }),
    );
  });

  it('never throws on a keybag with bytes changed at random', () => {
    const { keybag } = buildBackupKeybag('x');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: keybag.byteLength - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (changes) => {
          const damaged = Buffer.from(keybag);
          for (const [at, value] of changes) damaged[at] = value;
          const result = parseKeybag(damaged);
          if (!result.ok) expect(result.error).not.toBe('');
        },
      ),
    );
  });
});

describe('RFC 3394 AES key unwrap', () => {
  it('unwraps the 256-bit key data of RFC 3394 §4.6 with its 256-bit key-encryption key', () => {
    const kek = hex('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
    const wrapped = hex(
      `28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21`,
    );
    expect(aesUnwrap(kek, wrapped)).toEqual(
      hex('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F'),
    );
  });

  it('unwraps what was wrapped, and fails the integrity check under any other key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 64 }).filter((k) => k.byteLength % 8 === 0),
        (kek, other, key) => {
          const wrapped = aesWrap(kek, key);
          expect(aesUnwrap(kek, wrapped)).toEqual(Buffer.from(key));
          if (!Buffer.from(kek).equals(Buffer.from(other))) expect(aesUnwrap(other, wrapped)).toBeUndefined();
        },
      ),
    );
  });

  it('fails the integrity check when a byte of the wrapped key changes', () => {
    const kek = randomBytes(32);
    const wrapped = aesWrap(kek, randomBytes(32));
    fc.assert(
      fc.property(fc.nat({ max: wrapped.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const damaged = Buffer.from(wrapped);
        damaged[at]! ^= flip;
        expect(aesUnwrap(kek, damaged)).toBeUndefined();
      }),
    );
  });

  it('refuses sizes no wrapped key has', () => {
    expect(aesUnwrap(randomBytes(32), randomBytes(16))).toBeUndefined();
    expect(aesUnwrap(randomBytes(32), randomBytes(41))).toBeUndefined();
    expect(aesUnwrap(randomBytes(16), randomBytes(40))).toBeUndefined();
  });
});
