/**
 * The keys of an encrypted iOS backup, as Finder, iTunes and idevicebackup2 write them since
 * iOS 10.2. Manifest.plist's `BackupKeyBag` is a keybag: a run of TLV records (a 4-letter ASCII
 * tag, a 4-byte big-endian length, the value), first the bag's own header
 *
 * - `VERS` version, `TYPE` (1: a backup bag), `UUID`, `HMCK` (an HMAC key we do not need), `WRAP`;
 * - `SALT` and `ITER`: PBKDF2-HMAC-SHA1's salt and iteration count;
 * - `DPSL`, `DPIC` (and `DPWT`): the salt and iteration count of the PBKDF2-HMAC-SHA256 run first
 *   on the password since iOS 10.2 (absent before);
 *
 * then one class key per data-protection class, each opening with its own `UUID`: `CLAS` (the
 * class number), `WRAP` (how it is wrapped: bit 2 "by the password"), `KTYP`, and `WPKY`, the
 * class key wrapped with AES key wrap (RFC 3394) under the key derived from the password.
 *
 * The parser is pure and never throws: a backup is evidence from a phone that may be compromised,
 * and a damaged or hostile keybag must end in a message, not a crash or an endless derivation.
 */
import { createDecipheriv, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';

/** One class key, still wrapped. */
export interface ClassKey {
  /** The data-protection class (1 Complete, 2 CompleteUnlessOpen, 3 UntilFirstUserAuthentication…). */
  protectionClass: number;
  /** How it is wrapped: bit 1 by the device's UID key (not in a backup), bit 2 by the password. */
  wrap: number;
  /** Its type: 0 AES, 1 Curve25519 (both are unwrapped the same way). */
  keyType: number | undefined;
  /** The class key wrapped with RFC 3394 AES key wrap. */
  wrappedKey: Uint8Array;
}

/** A backup keybag, its values checked. */
export interface Keybag {
  version: number;
  type: number;
  /** PBKDF2-HMAC-SHA1's salt and iteration count. */
  salt: Uint8Array;
  iterations: number;
  /** The PBKDF2-HMAC-SHA256 run first (iOS 10.2 and later), when the keybag has one. */
  dataProtection: { salt: Uint8Array; iterations: number } | undefined;
  classKeys: ClassKey[];
}

export type KeybagResult = { ok: true; keybag: Keybag } | { ok: false; error: string };

/** Bit 2 of a class key's `WRAP`: wrapped by the key derived from the backup's password. */
export const WRAP_PASSCODE = 2;

/**
 * The most PBKDF2 iterations accepted, ten times what iOS uses (10,000,000 for `DPIC`): a keybag
 * asking for 2^32 would keep a core busy for hours before saying anything.
 */
export const MAX_ITERATIONS = 100_000_000;

/** RFC 3394 §2.2.3.1: the default initial value, which unwrapping checks (the integrity check). */
const RFC3394_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

const TAG = /^[A-Z0-9]{4}$/;

/** The tags a header or a class key holds as a 4-byte big-endian unsigned integer. */
const INTEGER_TAGS = new Set(['VERS', 'TYPE', 'WRAP', 'ITER', 'DPWT', 'DPIC', 'CLAS', 'KTYP']);

type TlvRecord = Map<string, Uint8Array>;

const bytes = (what: string, length?: number) =>
  z
    .instanceof(Uint8Array, { message: `${what} is missing` })
    .refine((b) => length === undefined || b.byteLength === length, {
      message: `${what} must be ${length} bytes`,
    });
const integer = (what: string) =>
  z
    .instanceof(Uint8Array, { message: `${what} is missing` })
    .refine((b) => b.byteLength === 4, { message: `${what} must be a 4-byte integer` })
    .transform((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt32BE(0));
const iterations = (what: string) =>
  integer(what).refine((n) => n >= 1 && n <= MAX_ITERATIONS, {
    message: `${what} must be between 1 and ${MAX_ITERATIONS.toLocaleString('en-US')} iterations`,
  });

const headerSchema = z
  .object({
    VERS: integer('VERS (the version)'),
    TYPE: integer('TYPE'),
    SALT: bytes('SALT (the PBKDF2-SHA1 salt)').refine((b) => b.byteLength > 0, {
      message: 'SALT (the PBKDF2-SHA1 salt) is empty',
    }),
    ITER: iterations('ITER'),
    DPSL: bytes('DPSL (the PBKDF2-SHA256 salt)').optional(),
    DPIC: iterations('DPIC').optional(),
  })
  .refine((h) => (h.DPSL === undefined) === (h.DPIC === undefined), {
    message: 'DPSL and DPIC go together: one is missing',
  });

const classKeySchema = z.object({
  CLAS: integer('CLAS (the protection class)'),
  WRAP: integer('WRAP'),
  KTYP: integer('KTYP').optional(),
  // RFC 3394 §2.2.1: a wrapped key is n + 1 blocks of 64 bits, n ≥ 2.
  WPKY: bytes('WPKY (the wrapped key)').refine((b) => b.byteLength >= 24 && b.byteLength % 8 === 0, {
    message: 'WPKY (the wrapped key) must be a multiple of 8 bytes, at least 24',
  }),
});

/**
 * Reads a backup keybag. Never throws: a truncated record, a tag that is not one, a missing or
 * misshaped value all end in `{ ok: false, error }` naming the byte or the tag.
 *
 * @example
 *   const bag = parseKeybag(manifestPlist.BackupKeyBag);
 *   if (bag.ok) bag.keybag.classKeys.map((k) => k.protectionClass) // [1, 2, 3, …, 11]
 */
export function parseKeybag(input: Uint8Array): KeybagResult {
  if (input.byteLength === 0) return { ok: false, error: 'the keybag is empty' };
  const records = readRecords(input);
  if (typeof records === 'string') return { ok: false, error: records };
  const [header = new Map<string, Uint8Array>(), ...classes] = records;

  const parsedHeader = headerSchema.safeParse(Object.fromEntries(header));
  if (!parsedHeader.success) return { ok: false, error: `header: ${describe(parsedHeader.error)}` };
  const classKeys: ClassKey[] = [];
  for (const [index, record] of classes.entries()) {
    const parsed = classKeySchema.safeParse(Object.fromEntries(record));
    if (!parsed.success) return { ok: false, error: `class key ${index + 1}: ${describe(parsed.error)}` };
    classKeys.push({
      protectionClass: parsed.data.CLAS,
      wrap: parsed.data.WRAP,
      keyType: parsed.data.KTYP,
      wrappedKey: parsed.data.WPKY,
    });
  }
  if (classKeys.length === 0) return { ok: false, error: 'it holds no class key' };
  const h = parsedHeader.data;
  return {
    ok: true,
    keybag: {
      version: h.VERS,
      type: h.TYPE,
      salt: h.SALT,
      iterations: h.ITER,
      dataProtection:
        h.DPSL === undefined || h.DPIC === undefined ? undefined : { salt: h.DPSL, iterations: h.DPIC },
      classKeys,
    },
  };
}

/**
 * Splits the TLV run into the header and the class keys: the first `UUID` is the bag's own, and
 * each further `UUID` opens a class key. A string when the bytes are not a keybag.
 */
function readRecords(input: Uint8Array): TlvRecord[] | string {
  const view = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const records: TlvRecord[] = [new Map<string, Uint8Array>()];
  let uuids = 0;
  let offset = 0;
  while (offset < view.byteLength) {
    if (view.byteLength - offset < 8)
      return `truncated at byte ${offset}: a record needs 8 bytes of tag and length, ${view.byteLength - offset} left`;
    const tag = view.toString('latin1', offset, offset + 4);
    if (!TAG.test(tag)) return `byte ${offset}: ${JSON.stringify(tag)} is not a keybag tag`;
    const length = view.readUInt32BE(offset + 4);
    const start = offset + 8;
    if (length > view.byteLength - start)
      return `truncated at byte ${offset}: ${tag} says ${length} bytes, ${view.byteLength - start} left`;
    if (INTEGER_TAGS.has(tag) && length !== 4) return `byte ${offset}: ${tag} must be a 4-byte integer`;
    if (tag === 'UUID' && uuids++ > 0) records.push(new Map<string, Uint8Array>());
    const current = records[records.length - 1]!;
    if (current.has(tag)) return `byte ${offset}: ${tag} appears twice in one record`;
    current.set(tag, view.subarray(start, start + length));
    offset = start + length;
  }
  return records;
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * The key that unwraps the class keys: PBKDF2-HMAC-SHA256 of the password (salt `DPSL`, `DPIC`
 * iterations, 32 bytes), then PBKDF2-HMAC-SHA1 of that (salt `SALT`, `ITER` iterations, 32 bytes).
 * Keybags made before iOS 10.2 have only the second step, run on the password itself. With iOS's
 * 10,000,000 iterations this takes seconds; it runs on libuv's thread pool, off the event loop.
 */
export async function passwordKey(keybag: Keybag, password: string): Promise<Buffer> {
  let secret = Buffer.from(password, 'utf8');
  if (keybag.dataProtection !== undefined)
    secret = await pbkdf2Async(
      secret,
      keybag.dataProtection.salt,
      keybag.dataProtection.iterations,
      32,
      'sha256',
    );
  return pbkdf2Async(secret, keybag.salt, keybag.iterations, 32, 'sha1');
}

/**
 * The class keys the password unwraps, by class; undefined when the password is wrong (RFC 3394's
 * integrity check fails). Class keys wrapped by the device alone cannot be unwrapped off the phone
 * and are left out.
 */
export function unwrapClassKeys(keybag: Keybag, key: Uint8Array): Map<number, Buffer> | undefined {
  const keys = new Map<number, Buffer>();
  for (const classKey of keybag.classKeys) {
    if ((classKey.wrap & WRAP_PASSCODE) === 0) continue;
    const unwrapped = aesUnwrap(key, classKey.wrappedKey);
    if (unwrapped === undefined) {
      for (const k of keys.values()) k.fill(0);
      return undefined;
    }
    keys.set(classKey.protectionClass, unwrapped);
  }
  return keys;
}

/**
 * RFC 3394 AES key unwrap with a 256-bit key-encryption key. Undefined when the integrity check of
 * §2.2.3 fails (the wrong key, or damaged bytes) or the sizes are not those of a wrapped key.
 */
export function aesUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer | undefined {
  if (kek.byteLength !== 32 || wrapped.byteLength < 24 || wrapped.byteLength % 8 !== 0) return undefined;
  try {
    const decipher = createDecipheriv('id-aes256-wrap', kek, RFC3394_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    // OpenSSL reports a failed integrity check as an error of the cipher, whatever its wording.
    return undefined;
  }
}
