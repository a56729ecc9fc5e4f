/**
 * Resume tokens: how a presence in a meeting survives a dropped socket (a network blip, a
 * restart of the server) without going through the lobby again. The server hands each
 * participant a short-lived token in `welcome`, and a fresh one every `RESUME_REFRESH_MS`;
 * a socket opened with `?resume=<token>` takes the same presence back.
 *
 * A token is `<claims>.<tag>`: the claims (meeting, participant, holder, expiry) in base64url
 * JSON, and an HMAC-SHA256 tag under a key derived from the master key, so that it survives a
 * restart and nobody else can make one. It is bound to one agent session or guest pass (the
 * holder): a stolen token is worth nothing without the cookie that goes with it. It is never
 * a reason to let anyone in by itself: the admission decision still runs, and the presence it
 * names must still exist (removal, leaving, the end of the meeting all end the presence).
 */
import { RESUME_TOKEN_TTL_MS, Uuid } from '@rempart/core';
import { z } from 'zod';
import { safeEqual } from '../identity/secrets.js';

/** A participant gets a fresh token this often, well inside its lifetime. */
export const RESUME_REFRESH_MS = 20_000;
/** Longest token accepted (a real one is about 250 characters). */
export const RESUME_TOKEN_MAX_CHARS = 512;

const Claims = z.strictObject({
  /** Meeting id. */
  m: Uuid,
  /** Participant id of the presence. */
  p: Uuid,
  /** The agent session (`session:<id>`) or guest pass (`guest:<id>`) the presence belongs to. */
  h: z.string().regex(/^(session|guest):[0-9a-f-]{36}$/),
  /** Expiry, milliseconds since the epoch. */
  x: z.number().int().nonnegative(),
});

export interface ResumeClaims {
  meetingId: string;
  participantId: string;
  holder: string;
  expiresAt: number;
}

export type ResumeCheck =
  { ok: true; claims: ResumeClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/** The holder of an agent session or a guest pass, as tokens name it. */
export function resumeHolder(holder: { sessionId: string } | { guestPassId: string }): string {
  return 'sessionId' in holder ? `session:${holder.sessionId}` : `guest:${holder.guestPassId}`;
}

export class ResumeTokens {
  constructor(private readonly keys: { resumeTag(claims: string): string }) {}

  /**
   * A token for a presence, valid `RESUME_TOKEN_TTL_MS` from `now`.
   *
   * @example
   *   tokens.issue({ meetingId, participantId, holder: resumeHolder({ sessionId }) }, clock.now())
   */
  issue(presence: Omit<ResumeClaims, 'expiresAt'>, now: Date): string {
    const claims: z.infer<typeof Claims> = {
      m: presence.meetingId,
      p: presence.participantId,
      h: presence.holder,
      x: now.getTime() + RESUME_TOKEN_TTL_MS,
    };
    const encoded = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${encoded}.${this.keys.resumeTag(encoded)}`;
  }

  /** Reads a token: its claims when it is well-formed, made here and not expired. Never throws. */
  check(token: string, now: Date): ResumeCheck {
    if (token.length > RESUME_TOKEN_MAX_CHARS) return { ok: false, reason: 'malformed' };
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match?.[1] || !match[2]) return { ok: false, reason: 'malformed' };
    const [, encoded, tag] = match;
    if (!safeEqual(tag, this.keys.resumeTag(encoded))) return { ok: false, reason: 'forged' };
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const parsed = Claims.safeParse(json);
    if (!parsed.success) return { ok: false, reason: 'malformed' };
    const { m, p, h, x } = parsed.data;
    if (x <= now.getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, claims: { meetingId: m, participantId: p, holder: h, expiresAt: x } };
  }
}
