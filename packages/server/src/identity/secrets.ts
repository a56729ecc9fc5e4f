/**
 * Random tokens, their stored digests, and the server key ring. Tokens leave the
 * server once (in a cookie or a link) and are stored only as SHA-256 digests.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** 256-bit random token, base64url (43 characters). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Whether an `Authorization: Bearer <token>` header carries `expected`: compared as SHA-256 digests,
 * so equal lengths and no early exit on the first differing character.
 */
export function bearerMatches(authorization: string | undefined, expected: string): boolean {
  const given = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1] ?? '';
  return timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Keys derived (HKDF-SHA256) from one 32-byte master key kept outside the database,
 * so a database dump alone reveals neither TOTP seeds nor recovery codes.
 */
export class KeyRing {
  private readonly sealKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly pepperKey: Buffer;
  private readonly resumeKey: Buffer;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new Error('the master key must be 32 bytes');
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
    this.sealKey = derive('rempart seal v1');
    this.csrfKey = derive('rempart csrf v1');
    this.pepperKey = derive('rempart pepper v1');
    this.resumeKey = derive('rempart meeting resume v1');
  }

  /** AES-256-GCM; output `v1.<iv>.<ciphertext>.<tag>` in base64url. */
  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, ct, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, iv, ct, tag] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || ct === undefined || tag === undefined) {
      throw new Error('not a sealed value');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Anti-forgery token bound to one session (synchroniser token, keyed HMAC). */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  /**
   * Tag of a meeting resume token's claims (see `meetings/resume.ts`): derived from the master
   * key, so a token outlives a restart of the server but can be made by nobody else.
   */
  resumeTag(claims: string): string {
    return createHmac('sha256', this.resumeKey).update(claims).digest('base64url');
  }

  /** Keyed digest for low-entropy secrets such as recovery codes. */
  pepper(value: string): string {
    return createHmac('sha256', this.pepperKey).update(value).digest('hex');
  }
}
