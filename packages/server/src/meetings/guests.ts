/**
 * External guests. A meeting that takes guests (public or internal only) lets a person
 * prove an email address with a one-time code sent to it; the proof is a guest pass, a
 * cookie valid for that meeting only. It does not let them in: a guest always waits in
 * the lobby for a host, and is shown as GUEST to everyone.
 */
import { randomInt } from 'node:crypto';
import { GUEST_CODE_ALPHABET, IdentityError, RempartError, type GuestStartRequest } from '@rempart/core';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { guestPasses } from '../db/schema.js';
import { randomToken, safeEqual, sha256Hex } from '../identity/secrets.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import { AttemptLimiter } from './attempts.js';
import type { MeetingsService } from './meetings.service.js';

export const GUEST_CODE_MS = 10 * 60 * 1000;
export const GUEST_CODE_ATTEMPTS = 5;
export const GUEST_COOKIE = 'rempart_guest';

export interface GuestPass {
  id: string;
  meetingId: string;
  email: string;
  displayName: string;
}

export interface GuestDeps {
  db: Db;
  meetings: MeetingsService;
  mailer: Mailer | undefined;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
}

export function newGuestCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += GUEST_CODE_ALPHABET[randomInt(GUEST_CODE_ALPHABET.length)];
  return code;
}

/** The code is hashed with its pass id, so that equal codes of two passes never share a digest. */
const codeDigest = (passId: string, code: string) => sha256Hex(`${passId}:${code}`);

export class GuestService {
  // Codes sent: per address of the requester and per email, so nobody floods an inbox.
  private readonly perIp = new AttemptLimiter({ limit: 10, windowMs: 15 * 60 * 1000 });
  private readonly perEmail = new AttemptLimiter({ limit: 3, windowMs: 15 * 60 * 1000 });

  constructor(private readonly deps: GuestDeps) {}

  get enabled(): boolean {
    return this.deps.mailer !== undefined;
  }

  /** Sends a one-time code to the guest's address; the same answer whatever the address. */
  async start(linkId: string, request: GuestStartRequest, ip: string) {
    const { clock, meetings } = this.deps;
    const now = clock.now();
    const record = await meetings.byLinkId(linkId);
    const open =
      record !== undefined &&
      record.row.guests &&
      record.row.endedAt === null &&
      record.row.endsAt > now &&
      (record.row.classification === 'public' || record.row.classification === 'internal');
    if (!open || !this.deps.mailer) throw RempartError.notFound('meeting open to guests');
    if (this.perIp.isLimited(`ip:${ip}`, now) || this.perEmail.isLimited(`email:${request.email}`, now))
      throw IdentityError.tooManyAttempts(15 * 60);
    this.perIp.record(`ip:${ip}`, now);
    this.perEmail.record(`email:${request.email}`, now);

    const code = newGuestCode();
    const expiresAt = new Date(now.getTime() + GUEST_CODE_MS);
    const [pass] = await this.deps.db
      .insert(guestPasses)
      .values({
        meetingId: record.row.id,
        email: request.email,
        displayName: request.displayName,
        codeHash: 'pending',
        createdAt: now,
        codeExpiresAt: expiresAt,
        ip,
      })
      .returning();
    if (!pass) throw RempartError.internal(new Error('guest pass insert returned nothing'));
    await this.deps.db
      .update(guestPasses)
      .set({ codeHash: codeDigest(pass.id, code) })
      .where(eq(guestPasses.id, pass.id));
    await this.deps.mailer.send({
      to: request.email,
      subject: `Your code to join “${record.row.title}”`,
      text: [
        `Hello ${request.displayName},`,
        '',
        `Your one-time code to ask to join the meeting “${record.row.title}” is:`,
        '',
        `    ${code.slice(0, 4)}-${code.slice(4)}`,
        '',
        'It is valid for 10 minutes. A host will then decide whether to let you in.',
        'If you did not ask for it, ignore this message.',
      ].join('\n'),
    });
    await this.deps.audit.record({
      action: 'meeting.guest_code_sent',
      outcome: 'success',
      actor: null,
      targetId: record.row.id,
      ip,
      details: { email: request.email, passId: pass.id },
    });
    return { challengeId: pass.id, expiresAt: expiresAt.toISOString() };
  }

  /** Checks the code; returns the pass and the cookie token, or the generic sign-in failure. */
  async verify(challengeId: string, code: string, ip: string): Promise<{ pass: GuestPass; token: string }> {
    const now = this.deps.clock.now();
    // Count the attempt first, atomically, so parallel guesses cannot exceed the budget.
    const [pass] = await this.deps.db
      .update(guestPasses)
      .set({ attempts: sql`${guestPasses.attempts} + 1` })
      .where(
        and(
          eq(guestPasses.id, challengeId),
          gt(guestPasses.codeExpiresAt, now),
          sql`${guestPasses.verifiedAt} is null`,
          sql`${guestPasses.attempts} < ${GUEST_CODE_ATTEMPTS}`,
        ),
      )
      .returning();
    const ok = pass !== undefined && safeEqual(pass.codeHash, codeDigest(pass.id, code));
    await this.deps.audit.record({
      action: 'meeting.guest_verified',
      outcome: ok ? 'success' : 'failure',
      actor: null,
      targetId: pass?.meetingId ?? null,
      ip,
      details: { passId: challengeId, email: pass?.email ?? null, attempt: pass?.attempts ?? null },
    });
    if (!pass || !ok) throw IdentityError.invalidCredentials();
    const token = randomToken();
    await this.deps.db
      .update(guestPasses)
      .set({ verifiedAt: now, tokenHash: sha256Hex(token) })
      .where(eq(guestPasses.id, pass.id));
    return {
      pass: { id: pass.id, meetingId: pass.meetingId, email: pass.email, displayName: pass.displayName },
      token,
    };
  }

  /** The verified pass behind a guest cookie, for one meeting. */
  async resolve(token: string | undefined, meetingId: string): Promise<GuestPass | undefined> {
    if (!token || token.length !== 43) return undefined;
    const [pass] = await this.deps.db
      .select()
      .from(guestPasses)
      .where(and(eq(guestPasses.tokenHash, sha256Hex(token)), eq(guestPasses.meetingId, meetingId)));
    if (!pass?.verifiedAt) return undefined;
    return { id: pass.id, meetingId: pass.meetingId, email: pass.email, displayName: pass.displayName };
  }
}
