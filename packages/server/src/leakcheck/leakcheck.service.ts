/**
 * The leak check as a service: scans an image, names the Rempart meetings whose links it shows,
 * and responds at once when one is live: the link is replaced (the old one dies), the hosts are
 * told (alert stream, mail when configured, the room's own view), and the audit log records it.
 *
 * OCR misreads some letters of a link id (l/I/1, O/0, g/q, case), so an id read from a picture
 * is matched against the open meetings' ids with those confusions folded and up to
 * `LINK_SLACK` characters' slack: with 128 random bits per id (22 characters of 64), the chance
 * that a misread id comes within 4 edits of another open meeting's is under 10⁻²⁸ per meeting.
 */
import { RempartError, type LeakCheckResult, type LeakFinding, type LeakcheckLanguage } from '@rempart/core';
import type { AlertSink } from '../alerts/alert.service.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import type { MeetingsService } from '../meetings/meetings.service.js';
import type { LiveMeetings } from '../meetings/signalling.js';
import type { Finding } from './findings.js';
import { mediaTypes } from './media-types.js';
import type { LeakScanner } from './scanner.js';

export interface LeakCheckDeps {
  meetings: MeetingsService;
  live: LiveMeetings;
  audit: AuditLog;
  alerts: AlertSink;
  mailer: Mailer | undefined;
  log: Logger;
  workers: number;
  /** Where the OCR language data is linked and cached. */
  dir: string;
  /** The languages read, the first leading; by default the French model (`defaultLeakcheckLanguages`). */
  languages?: readonly LeakcheckLanguage[];
  /** Checks allowed to wait for an OCR thread; more are refused with `service_unavailable`. */
  maxQueued?: number;
}

export interface Actor {
  id: string;
  email: string;
}

/** Folds the letters OCR confuses: case, l/I/1/|, O/0, g/q, j/;, and `-`/`_` (often read as each other). */
export function foldLinkId(id: string): string {
  return id
    .toLowerCase()
    .replace(/;/g, 'j')
    .replace(/[il1|]/g, 'l')
    .replace(/[o0]/g, 'o')
    .replace(/q/g, 'g')
    .replace(/_/g, '-');
}

/**
 * Edits (after folding) allowed between an id read and a meeting's: a letter misread, one left
 * out or one read twice. Measured on photos of invitations: most ids are read within 2, a few
 * within 3 or 4 (an accent taken for a digit, a doubled thin letter).
 */
export const LINK_SLACK = 4;

/** Edit distance, stopping early once it exceeds `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      best = Math.min(best, value);
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}

/** The open meeting whose link id is the one read, allowing for OCR confusions. */
export function matchLinkId(
  read: string,
  open: readonly { id: string; linkId: string }[],
): { id: string; linkId: string } | undefined {
  const exact = open.find((m) => m.linkId === read);
  if (exact) return exact;
  const folded = foldLinkId(read);
  let best: { id: string; linkId: string } | undefined;
  let bestDistance = LINK_SLACK + 1;
  for (const meeting of open) {
    const d = editDistance(folded, foldLinkId(meeting.linkId), LINK_SLACK);
    if (d < bestDistance) {
      best = meeting;
      bestDistance = d;
    }
  }
  return best;
}

export class LeakCheckService {
  private scanner: Promise<LeakScanner> | undefined;
  private waiting = 0;

  constructor(private readonly deps: LeakCheckDeps) {}

  /**
   * Started at the first check: a platform that never checks an image never loads the OCR, nor
   * even the image, QR code and OCR libraries (some 50 MB resident once loaded; the DNS resolver
   * run alone, for one, never needs them).
   */
  private scannerReady(): Promise<LeakScanner> {
    const { workers, dir, languages } = this.deps;
    this.scanner ??= import('./scanner.js')
      .then(({ LeakScanner }) => LeakScanner.start({ workers, dir, ...(languages ? { languages } : {}) }))
      .catch((error: unknown) => {
        this.scanner = undefined;
        throw error;
      });
    return this.scanner;
  }

  async check(
    actor: Actor | null,
    file: Buffer,
    options: { redact: boolean; ip: string | null },
  ): Promise<LeakCheckResult> {
    const limit = this.deps.maxQueued ?? this.deps.workers * 8;
    if (this.waiting >= limit) {
      throw new RempartError(
        'service_unavailable',
        'Too many images are being checked. Try again in a moment.',
        {
          details: { retryAfterSeconds: 5 },
        },
      );
    }
    this.waiting += 1;
    let scanned;
    try {
      const scanner = await this.scannerReady();
      scanned = await scanner.scan(file, { redact: options.redact });
    } finally {
      this.waiting -= 1;
    }
    const findings = await this.respond(actor, scanned.findings, options.ip);
    await this.deps.audit.record({
      action: 'leakcheck.scanned',
      outcome: 'success',
      actor,
      targetId: null,
      ip: options.ip,
      details: {
        format: scanned.image.format,
        bytes: scanned.image.bytes,
        findings: countBy(findings.map((f) => f.kind)),
      },
    });
    return {
      image: scanned.image,
      findings,
      ...(scanned.redacted
        ? {
            redacted: {
              mediaType: mediaTypes[scanned.image.format],
              base64: scanned.redacted.toString('base64'),
            },
          }
        : {}),
      elapsedMs: Math.round(scanned.elapsedMs),
    };
  }

  /** Names the meetings behind Rempart links, and replaces the links of those still open. */
  private async respond(actor: Actor | null, findings: Finding[], ip: string | null): Promise<LeakFinding[]> {
    const links = findings.filter((f) => f.kind === 'rempart_meeting_link' && f.details?.linkId);
    const open = links.length > 0 ? await this.deps.meetings.openLinks() : [];
    const handled = new Map<string, LeakFinding['meeting']>();
    const out: LeakFinding[] = [];
    for (const finding of findings) {
      const { details: _details, ...view } = finding;
      const linkId = finding.kind === 'rempart_meeting_link' ? finding.details?.linkId : undefined;
      const match = linkId
        ? [linkId, ...(finding.details?.otherLinkIds ?? [])]
            .map((id) => matchLinkId(id, open))
            .find((m) => m !== undefined)
        : undefined;
      if (!match) {
        out.push(
          linkId ? { ...view, reason: `${view.reason} No open meeting has this link any more.` } : view,
        );
        continue;
      }
      let meeting = handled.get(match.id);
      if (!meeting) {
        meeting = await this.rotate(actor, match.id, ip);
        handled.set(match.id, meeting);
      }
      out.push({
        ...view,
        ...(meeting ? { meeting } : {}),
        reason: meeting
          ? `The link of the meeting “${meeting.title}”: it has been replaced, the old link no longer works.`
          : view.reason,
      });
    }
    return out;
  }

  private async rotate(
    actor: Actor | null,
    meetingId: string,
    ip: string | null,
  ): Promise<LeakFinding['meeting']> {
    const before = await this.deps.meetings.byId(meetingId);
    if (!before || before.row.endedAt !== null) return undefined;
    const record = await this.deps.meetings.rotateLink(actor, meetingId, ip, 'leak_check');
    this.deps.live.roomOf(meetingId)?.refresh(record);
    const title = record.row.title;
    const hosts = await this.deps.meetings.hostEmails(record);
    await this.deps.alerts.raise({
      severity: 'high',
      source: 'leakcheck',
      title: `A picture showed the link of the meeting “${title}”; the link was replaced`,
      details: { meetingId, foundBy: actor?.email ?? null, hosts },
    });
    await this.tellHosts(hosts, title, actor);
    this.deps.log.warn({ meetingId }, 'meeting link found in a picture; link rotated');
    return { id: meetingId, title, rotated: true };
  }

  private async tellHosts(hosts: string[], title: string, actor: Actor | null): Promise<void> {
    const mailer = this.deps.mailer;
    if (!mailer) return;
    for (const to of hosts) {
      try {
        await mailer.send({
          to,
          subject: `Rempart: the link of “${title}” was found in a picture and replaced`,
          text: [
            `A picture checked by ${actor?.email ?? 'an agent'} before posting showed the link of your meeting “${title}”.`,
            'The link has been replaced: the old one no longer works. Invited agents find the new link in Rempart.',
            'Whoever uses the old link is refused; nobody enters without a verified identity.',
          ].join('\n\n'),
        });
      } catch (error) {
        this.deps.log.warn({ err: error }, 'could not mail a host about a leaked meeting link');
      }
    }
  }

  async close(): Promise<void> {
    const scanner = this.scanner;
    this.scanner = undefined;
    if (scanner) await (await scanner.catch(() => undefined))?.close();
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
