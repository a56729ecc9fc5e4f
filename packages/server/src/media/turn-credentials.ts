/**
 * Time-limited TURN credentials from a secret shared with the TURN server, as coturn checks
 * them with `use-auth-secret` (the "TURN REST API", draft-uberti-behave-turn-rest-00 §2.2):
 * the username is `<expiry in unix seconds>:<user>` and the password is
 * base64(HMAC-SHA1(secret, username)). Nothing is stored; the server recomputes the HMAC.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '@rempart/core';

/** How long a browser may use its TURN credentials: a meeting lasts at most a day. */
export const TURN_CREDENTIAL_TTL_SECONDS = 24 * 60 * 60;

/**
 * @example
 *   turnCredentials({ urls: ['turn:turn.example.org:3478'], secret: 's' }, 'p1', new Date(0))
 *   // → { urls: [...], username: '86400:p1', credential: '…base64…' }
 */
export function turnCredentials(
  turn: { urls: string[]; secret: string },
  user: string,
  now: Date,
  ttlSeconds: number = TURN_CREDENTIAL_TTL_SECONDS,
): IceServer {
  const expiry = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const username = `${expiry}:${user}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return { urls: [...turn.urls], username, credential };
}
