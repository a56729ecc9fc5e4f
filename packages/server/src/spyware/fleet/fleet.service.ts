/**
 * The fleet: the institution's phones, and the checks of them an administrator asks for.
 *
 * A phone belongs to a person even when the institution issued it, so a check runs only once its
 * owner consented: signed in (with MFA) in the console, or by a signed paper form an administrator
 * attaches. Then the administrator uploads the artifact (a zip of an iOS backup, a sysdiagnose, an
 * Android bug report or an androidqf acquisition); it is extracted safely and scanned in the
 * background, one scan at a time, against the indicator store's current matcher. The findings are
 * kept; the raw extracts (the upload and the timeline) only `rawDays` days, and until then a
 * retro-hunt can scan them again with newly imported indicators. An infection raises one critical
 * alert.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  Consent,
  RempartError,
  type DeviceDetail,
  type RetroHunt,
  type Scan,
  type ScanKind,
  type ScanReport,
  type ScanRequest,
  type SpywareDevice,
  type TimelineEvent,
  type TimelinePage,
} from '@rempart/core';
import type { AlertSink } from '../../alerts/alert.service.js';
import type { AuditLog } from '../../audit/audit.service.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { scanAndroidqf } from '../android/androidqf.js';
import { scanAndroidBugreport } from '../android/bugreport.js';
import { scanIosBackup, type IosBackupOptions } from '../ios/backup.js';
import type { IndicatorMatcher } from '../matcher.js';
import { renderHtmlReport, type ReadableReport } from '../report.js';
import type { ScanProgress, ScanResult } from '../scan.js';
import { scanSysdiagnose } from '../sysdiagnose.js';
import { extractZip, type ExtractLimits } from './archive.js';
import type { FleetFiles } from './files.js';
import type { DeviceRow, FleetRepository, ScanRow } from './fleet.repository.js';
import { findArtifactRoot } from './locate.js';
import { extractTarGz } from './tar.js';

/** What the fleet needs of the indicator store. */
export interface IndicatorSource {
  matcher(): IndicatorMatcher;
}

/** Who asks: the signed-in agent. */
export interface Viewer {
  id: string;
  email: string;
  role: 'admin' | 'host' | 'agent';
}

export interface FleetConfig {
  /** Days the raw extracts are kept after a scan ends; 0: deleted at once. */
  rawDays: number;
  uploadMaxBytes: number;
  /** Bounds of an extraction; four times the upload limit and 2 million entries by default. */
  extract?: Partial<ExtractLimits>;
  /** How often the retention sweep runs; hourly by default. */
  sweepIntervalMs?: number;
}

export interface FleetDeps {
  repo: FleetRepository;
  files: FleetFiles;
  indicators: IndicatorSource;
  audit: AuditLog;
  alerts: AlertSink;
  clock: Clock;
  log: Logger;
  config: FleetConfig;
  agentByEmail: (email: string) => Promise<{ id: string; email: string } | undefined>;
  agentsByIds: (ids: string[]) => Promise<{ id: string; email: string }[]>;
  /** Runs the scanner of a kind on the artifact's folder: the library's scanners by default. */
  scanner?: Scanner;
}

export type Scanner = (kind: ScanKind, root: string, options: IosBackupOptions) => Promise<ReadableReport>;

/** A signed consent form is a PDF or a picture of the page, at most 10 MB. */
export const CONSENT_FORM_MAX_BYTES = 10 * 1024 * 1024;

const DAY_MS = 86_400_000;
/** Progress is written at most this often: the console polls it, the scanner reports far more. */
const PROGRESS_EVERY_MS = 500;
const RESTART_MESSAGE =
  'The server stopped while this scan ran; the scan did not finish. Upload the artifact again to run it.';

/**
 * The type of a consent form by its first bytes (the name and the Content-Type are the sender's
 * word): PDF (ISO 32000-1 §7.5.2 `%PDF-`), PNG (RFC 2083 §3.1 signature), JPEG (SOI then a marker).
 *
 * @example
 *   consentFormType(Buffer.from('%PDF-1.7\n…')) // 'application/pdf'
 */
export function consentFormType(
  bytes: Uint8Array,
): 'application/pdf' | 'image/png' | 'image/jpeg' | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return undefined;
}

/** The malware named by detections, sorted; detections of unnamed malware add none. */
export function malwareOf(detections: readonly TimelineEvent[]): string[] {
  return [...new Set(detections.flatMap((e) => e.detection?.malware ?? []))].sort();
}

/**
 * What makes two detections the same finding: the same value matched in the same record. A new
 * bundle that repeats an indicator already matched (bundles copy each other's domains) finds
 * nothing new there.
 */
function findingKey(event: TimelineEvent): string {
  const d = event.detection;
  return JSON.stringify([
    d?.type,
    d?.indicator,
    d?.matched,
    event.artifact,
    event.file,
    event.record,
    event.at,
  ]);
}

export class FleetService {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Scans whose upload is being received: a second upload at the same time is refused. */
  private readonly receiving = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly limits: ExtractLimits;
  private readonly scanner: Scanner;

  constructor(private readonly deps: FleetDeps) {
    this.log = deps.log;
    this.scanner = deps.scanner ?? runScanner;
    this.limits = {
      maxBytes: deps.config.extract?.maxBytes ?? deps.config.uploadMaxBytes * 4,
      maxEntries: deps.config.extract?.maxEntries ?? 2_000_000,
    };
  }

  /** Marks scans a stopped server left running as failed, sweeps, and sweeps again periodically. */
  async start(): Promise<void> {
    const now = this.deps.clock.now();
    this.deps.files.removeLeftovers();
    for (const scan of await this.deps.repo.scansWithStatus('scanning')) {
      await this.deps.repo.updateScan(scan.id, {
        status: 'failed',
        error: RESTART_MESSAGE,
        finishedAt: now,
        progress: null,
        rawKeptUntil: now,
      });
      this.log.warn({ scanId: scan.id }, 'spyware scan left running by a stop marked failed');
    }
    await this.sweep();
    this.sweepTimer = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.log.error({ err: error }, 'spyware retention sweep failed'),
      );
    }, this.deps.config.sweepIntervalMs ?? 3_600_000);
    this.sweepTimer.unref();
  }

  /** Stops the sweep; a scan running goes on to its end unless the process exits. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    // A scan of a large backup can take minutes: wait a little for it, not for ever.
    await Promise.race([this.queue, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  /** Resolves when every scan and retro-hunt queued has ended (tests, and a clean stop). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.queue;
  }

  // ------------------------------------------------------------ asking, consent

  async requestScan(actor: Viewer, input: ScanRequest, ip: string | null): Promise<Scan> {
    const owner = await this.deps.agentByEmail(input.owner.toLowerCase());
    if (!owner) throw new RempartError('owner_unknown', `No agent has the address ${input.owner}.`);
    if (!platformAccepts(input.device.platform, input.kind))
      throw RempartError.validation(
        `A ${input.kind} scan does not read a phone on ${input.device.platform}.`,
      );
    const now = this.deps.clock.now();
    const device = await this.deps.repo.ensureDevice({
      ownerId: owner.id,
      name: input.device.name,
      platform: input.device.platform,
      serial: input.device.serial || null,
      createdAt: now,
    });
    if (device.platform !== input.device.platform)
      throw RempartError.conflict(
        `${owner.email} already has a device named "${device.name}", on ${device.platform}: name this one differently.`,
      );
    if (input.device.serial && !device.serial)
      await this.deps.repo.updateDeviceSerial(device.id, input.device.serial);
    const scan = await this.deps.repo.insertScan({
      deviceId: device.id,
      kind: input.kind,
      purpose: input.purpose,
      status: 'awaiting_consent',
      requestedBy: actor.email,
      requestedAt: now,
      malware: [],
      artifacts: [],
      detections: [],
    });
    await this.deps.audit.record({
      action: 'spyware.scan.requested',
      outcome: 'success',
      actor,
      targetId: scan.id,
      ip,
      details: {
        owner: owner.email,
        deviceId: device.id,
        device: device.name,
        kind: input.kind,
        purpose: input.purpose,
      },
    });
    this.log.info({ scanId: scan.id, deviceId: device.id }, 'spyware scan requested');
    return this.scanView(scan, device, owner.email);
  }

  /** The owner consents, signed in: the scan becomes ready for its artifact. */
  async consent(viewer: Viewer, scanId: string, ip: string | null): Promise<Scan> {
    const { scan, device, owner } = await this.load(scanId);
    if (device.ownerId !== viewer.id) {
      await this.deps.audit.record({
        action: 'spyware.consent.given',
        outcome: 'denied',
        actor: viewer,
        targetId: scanId,
        ip,
        details: { reason: 'not the owner', owner },
      });
      throw new RempartError('consent_owner_only', "Only the device's owner may consent to its check.");
    }
    const consent: Consent = { by: 'agent', at: this.deps.clock.now().toISOString(), agent: viewer.email };
    const updated = await this.deps.repo.transitionScan(scanId, ['awaiting_consent'], {
      consent,
      status: 'ready',
    });
    if (!updated) throw RempartError.conflict(`This scan is ${scan.status}: it does not wait for consent.`);
    await this.deps.audit.record({
      action: 'spyware.consent.given',
      outcome: 'success',
      actor: viewer,
      targetId: scanId,
      ip,
      details: { by: 'agent', deviceId: device.id },
    });
    return this.scanView(updated, device, owner);
  }

  /** An administrator attaches the owner's signed form: the scan becomes ready for its artifact. */
  async attachConsentForm(
    actor: Viewer,
    scanId: string,
    fileName: string,
    bytes: Uint8Array,
    ip: string | null,
  ): Promise<Scan> {
    const { scan, device, owner } = await this.load(scanId);
    if (bytes.length > CONSENT_FORM_MAX_BYTES)
      throw new RempartError('payload_too_large', 'A consent form is at most 10 MB.');
    if (consentFormType(bytes) === undefined)
      throw new RempartError('consent_form_invalid', 'A consent form is a PDF, PNG or JPEG file.');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const consent: Consent = {
      by: 'form',
      at: this.deps.clock.now().toISOString(),
      attachedBy: actor.email,
      fileName,
      sha256,
    };
    const updated = await this.deps.repo.attachConsentForm(scanId, bytes, consent);
    if (!updated) throw RempartError.conflict(`This scan is ${scan.status}: it does not wait for consent.`);
    await this.deps.audit.record({
      action: 'spyware.consent.form_attached',
      outcome: 'success',
      actor,
      targetId: scanId,
      ip,
      details: { by: 'form', owner, deviceId: device.id, fileName, sha256, bytes: bytes.length },
    });
    return this.scanView(updated, device, owner);
  }

  async consentForm(
    viewer: Viewer,
    scanId: string,
  ): Promise<{ bytes: Uint8Array; contentType: string; fileName: string }> {
    const { scan } = await this.loadVisible(viewer, scanId);
    const consent = Consent.safeParse(scan.consent);
    const bytes =
      consent.success && consent.data.by === 'form' ? await this.deps.repo.consentForm(scanId) : undefined;
    if (!bytes || !consent.success || consent.data.by !== 'form') throw RempartError.notFound('consent form');
    return {
      bytes,
      contentType: consentFormType(bytes) ?? 'application/octet-stream',
      fileName: consent.data.fileName,
    };
  }

  /** The owner takes consent back before the scan runs. */
  async withdraw(viewer: Viewer, scanId: string, ip: string | null): Promise<Scan> {
    const { scan, device, owner } = await this.load(scanId);
    if (device.ownerId !== viewer.id)
      throw new RempartError('consent_owner_only', "Only the device's owner may withdraw consent.");
    const updated = await this.deps.repo.transitionScan(scanId, ['awaiting_consent', 'ready'], {
      status: 'withdrawn',
    });
    if (!updated)
      throw RempartError.conflict(`This scan is ${scan.status}: consent can no longer be withdrawn.`);
    await this.deps.audit.record({
      action: 'spyware.consent.withdrawn',
      outcome: 'success',
      actor: viewer,
      targetId: scanId,
      ip,
      details: { deviceId: device.id, was: scan.status },
    });
    return this.scanView(updated, device, owner);
  }

  // ---------------------------------------------------------- artifact, scanning

  /**
   * Receives the artifact, extracts it and finds it inside, then queues its scan. Bad input (not
   * a zip, a refused or damaged one, not the artifact the scan asked for, too large) is refused
   * and changes nothing. The password of an encrypted backup is used by the scan and forgotten.
   */
  async uploadArtifact(
    actor: Viewer,
    scanId: string,
    body: Readable,
    options: { password?: string | undefined; ip: string | null },
  ): Promise<Scan> {
    const { scan, device, owner } = await this.load(scanId);
    const retry = scan.status === 'failed' && scan.consent !== null;
    if (scan.status === 'awaiting_consent' || scan.status === 'withdrawn')
      throw new RempartError(
        'consent_required',
        scan.status === 'withdrawn'
          ? 'The owner withdrew consent: this scan cannot run.'
          : 'The owner has not consented to this scan yet.',
      );
    if (scan.status !== 'ready' && !retry)
      throw RempartError.conflict(`This scan is ${scan.status}: it takes no artifact now.`);
    if (this.receiving.has(scanId))
      throw RempartError.conflict('An artifact for this scan is being uploaded.');
    this.receiving.add(scanId);
    const { files } = this.deps;
    let root: string;
    let upload: { bytes: number; sha256: string };
    try {
      upload = await files.saveUpload(scanId, body, this.deps.config.uploadMaxBytes);
      const extracted = files.extractionDir(scanId, 'extracted');
      await this.extractUpload(scanId, extracted);
      root = findArtifactRoot(scan.kind, extracted);
    } catch (error) {
      files.removeScan(scanId);
      this.receiving.delete(scanId);
      await this.deps.audit.record({
        action: 'spyware.artifact.uploaded',
        outcome: 'failure',
        actor,
        targetId: scanId,
        ip: options.ip,
        details: { reason: error instanceof RempartError ? error.code : 'error' },
      });
      throw error;
    }
    this.receiving.delete(scanId);
    const queued = await this.deps.repo.transitionScan(scanId, ['ready', 'failed'], {
      status: 'scanning',
      progress: { artifact: 'queued', done: 0, total: 0 },
      startedAt: null,
      finishedAt: null,
      verdict: null,
      malware: [],
      indicators: null,
      deviceInfo: null,
      artifacts: [],
      detections: [],
      timelineCount: 0,
      rawKeptUntil: null,
      rawPurgedAt: null,
      error: null,
    });
    if (!queued) {
      files.removeScan(scanId);
      throw RempartError.conflict('This scan changed while its artifact was uploaded.');
    }
    // A retried scan may have left a timeline.
    if (retry) await this.deps.repo.deleteTimeline(scanId);
    await this.deps.audit.record({
      action: 'spyware.artifact.uploaded',
      outcome: 'success',
      actor,
      targetId: scanId,
      ip: options.ip,
      details: {
        deviceId: device.id,
        owner,
        kind: scan.kind,
        ...upload,
        encrypted: options.password !== undefined,
      },
    });
    const password = options.password;
    // Failures of the scan are the scan's status; the queue logs anything else.
    void this.enqueue(() => this.runScan(scanId, root, password));
    return this.scanView(queued, device, owner);
  }

  /** Extracts the scan's upload, a zip or a tar.gz, into `dest`. */
  private async extractUpload(scanId: string, dest: string): Promise<void> {
    const { files } = this.deps;
    const format = files.uploadFormat(scanId);
    if (format === 'zip') await extractZip(files.uploadPath(scanId), dest, this.limits);
    else if (format === 'tar.gz') await extractTarGz(files.readUpload(scanId), dest, this.limits);
    else
      throw new RempartError(
        'artifact_invalid',
        'The artifact is neither a zip nor a tar.gz: zip the folder and upload the zip.',
      );
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.pending++;
    const run = this.queue.then(job).finally(() => this.pending--);
    this.queue = run.catch((error: unknown) => this.log.error({ err: error }, 'spyware fleet job failed'));
    return run;
  }

  private async runScan(scanId: string, root: string, password: string | undefined): Promise<void> {
    const scan = await this.deps.repo.scanById(scanId);
    if (!scan || scan.status !== 'scanning') return;
    const device = (await this.deps.repo.deviceById(scan.deviceId))!;
    const owner = await this.ownerEmail(device.ownerId);
    const log = this.log.child({ scanId, deviceId: device.id });
    const startedAt = this.deps.clock.now();
    await this.deps.repo.updateScan(scanId, { startedAt, progress: { artifact: '', done: 0, total: 0 } });
    log.info({ kind: scan.kind }, 'spyware scan started');
    // Progress writes go one after the other, and the last one before the result.
    let writes = Promise.resolve();
    let lastWrite = 0;
    const onProgress = (progress: ScanProgress) => {
      const at = Date.now();
      if (at - lastWrite < PROGRESS_EVERY_MS && progress.done !== progress.total) return;
      lastWrite = at;
      writes = writes.then(async () => {
        await this.deps.repo.updateScan(scanId, { progress: { ...progress } }).catch(() => undefined);
      });
    };
    let finished: { row: ScanRow; verdict: 'clean' | 'infected'; malware: string[]; detections: number };
    try {
      const report = await this.scanner(scan.kind, root, {
        matcher: this.deps.indicators.matcher(),
        onProgress,
        now: () => this.deps.clock.now(),
        // An encrypted backup is decrypted beside its upload, in the data folder, not in /tmp.
        tempDir: this.deps.files.scanDir(scanId),
        ...(password === undefined ? {} : { password }),
      });
      await writes;
      await this.deps.repo.appendTimeline(scanId, report.timeline);
      const finishedAt = this.deps.clock.now();
      const malware = malwareOf(report.detections);
      const verdict = report.detections.length > 0 ? 'infected' : 'clean';
      const done = (await this.deps.repo.updateScan(scanId, {
        status: 'done',
        finishedAt,
        verdict,
        malware,
        indicators: report.indicators,
        deviceInfo: report.device,
        artifacts: report.artifacts,
        detections: report.detections,
        timelineCount: report.timeline.length,
        rawKeptUntil: new Date(finishedAt.getTime() + this.deps.config.rawDays * DAY_MS),
        progress: null,
        error: null,
      }))!;
      finished = { row: done, verdict, malware, detections: report.detections.length };
      log.info(
        { verdict, detections: report.detections.length, records: report.timeline.length },
        'spyware scan done',
      );
    } catch (error) {
      await writes;
      const message = scanErrorMessage(error, root);
      log.warn({ err: error }, 'spyware scan failed');
      const now = this.deps.clock.now();
      await this.deps.repo.updateScan(scanId, {
        status: 'failed',
        finishedAt: now,
        error: message,
        progress: null,
        rawKeptUntil: now,
        rawPurgedAt: now,
      });
      this.deps.files.removeScan(scanId);
      // A timeline written in part before the failure goes too.
      await this.deps.repo.deleteTimeline(scanId);
      await this.deps.audit.record({
        action: 'spyware.scan.finished',
        outcome: 'failure',
        targetId: scanId,
        details: { deviceId: device.id, owner, error: message },
      });
      return;
    } finally {
      // The upload stays for retro-hunts; its extraction is made again when needed.
      this.deps.files.remove(join(this.deps.files.scanDir(scanId), 'extracted'));
    }
    const { row, verdict, malware, detections } = finished;
    await this.deps.audit.record({
      action: 'spyware.scan.finished',
      outcome: 'success',
      targetId: scanId,
      details: { deviceId: device.id, owner, verdict, malware, detections },
    });
    if (verdict === 'infected') await this.raiseInfection(row, device, owner, detections, malware, undefined);
    if (this.deps.config.rawDays === 0) await this.sweep();
  }

  private async raiseInfection(
    scan: ScanRow,
    device: DeviceRow,
    owner: string,
    detections: number,
    malware: string[],
    retroHunt: string | undefined,
  ): Promise<void> {
    const named = malware.length > 0 ? malware.join(', ') : 'unnamed spyware';
    await this.deps.alerts.raise({
      severity: 'critical',
      source: 'spyware',
      title: `${named} found on ${owner}'s ${device.name} (scan ${scan.id})`,
      details: {
        scanId: scan.id,
        deviceId: device.id,
        device: device.name,
        owner,
        malware,
        detections,
        ...(retroHunt === undefined ? {} : { retroHunt }),
      },
    });
  }

  // ---------------------------------------------------------------- retro-hunt

  /**
   * Scans again, with `matcher` (a newly imported set's indicators), every finished scan whose
   * upload is still kept; adds the new detections to the scan, its device and timeline, raises
   * the alert, and returns the scans with new detections. Runs in the scan queue.
   */
  async retroHunt(
    matcher: IndicatorMatcher,
    onProgress: (done: number, total: number) => void,
  ): Promise<RetroHunt['scanHits']> {
    const hits: RetroHunt['scanHits'] = [];
    await this.enqueue(async () => {
      const scans = (await this.deps.repo.scansWithRaw()).filter((s) => this.deps.files.hasUpload(s.id));
      onProgress(0, scans.length);
      for (const [index, scan] of scans.entries()) {
        try {
          const hit = await this.huntIn(scan, matcher);
          if (hit) hits.push(hit);
        } catch (error) {
          this.log.warn({ err: error, scanId: scan.id }, 'spyware retro-hunt could not scan again');
        }
        onProgress(index + 1, scans.length);
      }
    });
    return hits;
  }

  private async huntIn(
    scan: ScanRow,
    matcher: IndicatorMatcher,
  ): Promise<RetroHunt['scanHits'][number] | undefined> {
    const { files } = this.deps;
    const dir = files.extractionDir(scan.id, 'retro-hunt');
    let report: ReadableReport;
    try {
      await this.extractUpload(scan.id, dir);
      // An encrypted backup's password was not kept: such a scan cannot be read again.
      report = await this.scanner(scan.kind, findArtifactRoot(scan.kind, dir), {
        matcher,
        now: () => this.deps.clock.now(),
        tempDir: this.deps.files.scanDir(scan.id),
      });
    } finally {
      files.remove(dir);
    }
    const current = await this.deps.repo.scanById(scan.id);
    if (!current || current.rawPurgedAt !== null) return undefined;
    const known = new Set((current.detections as unknown as TimelineEvent[]).map(findingKey));
    const found = report.detections.filter((e) => !known.has(findingKey(e)));
    if (found.length === 0) return undefined;
    const detections = [...(current.detections as unknown as TimelineEvent[]), ...found];
    const malware = malwareOf(detections);
    let appended = 0;
    for (const event of found)
      if ((await this.deps.repo.addTimelineDetection(scan.id, event)) === 'appended') appended++;
    const updated = (await this.deps.repo.updateScan(scan.id, {
      detections,
      malware,
      verdict: 'infected',
      timelineCount: current.timelineCount + appended,
    }))!;
    const device = (await this.deps.repo.deviceById(scan.deviceId))!;
    const owner = await this.ownerEmail(device.ownerId);
    const newMalware = malwareOf(found);
    const sources = [...new Set(found.map((e) => e.detection?.source ?? ''))].join(', ');
    await this.deps.audit.record({
      action: 'spyware.retrohunt.found',
      outcome: 'success',
      targetId: scan.id,
      details: { deviceId: device.id, owner, detections: found.length, malware: newMalware, sources },
    });
    await this.raiseInfection(updated, device, owner, found.length, newMalware, sources);
    return {
      scanId: scan.id,
      deviceId: device.id,
      device: device.name,
      owner,
      detections: found.length,
      malware: newMalware,
    };
  }

  // ----------------------------------------------------------------- retention

  /**
   * Deletes the raw extracts of scans whose retention ended: the upload and the timeline; the
   * findings (verdict, malware, detections, artifacts) stay. Returns how many scans were purged.
   */
  async sweep(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.deps.repo.scansToPurge(now);
    for (const scan of due) {
      this.deps.files.removeScan(scan.id);
      await this.deps.repo.deleteTimeline(scan.id);
      await this.deps.repo.updateScan(scan.id, { rawPurgedAt: now });
    }
    if (due.length > 0) {
      this.log.info({ scans: due.length }, 'spyware raw extracts deleted at the end of their retention');
      await this.deps.audit.record({
        action: 'spyware.raw.purged',
        outcome: 'success',
        details: { scans: due.map((s) => s.id) },
      });
    }
    return due.length;
  }

  // --------------------------------------------------------------------- views

  async listDevices(viewer: Viewer): Promise<SpywareDevice[]> {
    const devices = await this.deps.repo.listDevices(viewer.role === 'admin' ? undefined : viewer.id);
    const scans = await this.deps.repo.scansOfDevices(devices.map((d) => d.id));
    const owners = await this.ownerEmails(devices.map((d) => d.ownerId));
    return devices.map((d) =>
      deviceView(
        d,
        owners.get(d.ownerId) ?? '',
        scans.filter((s) => s.deviceId === d.id),
      ),
    );
  }

  async device(viewer: Viewer, deviceId: string): Promise<DeviceDetail> {
    const device = await this.deps.repo.deviceById(deviceId);
    if (!device || (viewer.role !== 'admin' && device.ownerId !== viewer.id))
      throw RempartError.notFound('device');
    const owner = await this.ownerEmail(device.ownerId);
    const scans = await this.deps.repo.scansOfDevices([device.id]);
    return {
      device: deviceView(device, owner, scans),
      scans: scans.map((s) => this.scanView(s, device, owner)),
    };
  }

  async scan(viewer: Viewer, scanId: string): Promise<Scan> {
    const { scan, device, owner } = await this.loadVisible(viewer, scanId);
    return this.scanView(scan, device, owner);
  }

  async timeline(
    viewer: Viewer,
    scanId: string,
    query: { offset: number; limit: number; detections: 'all' | 'only'; artifact?: string | undefined },
  ): Promise<TimelinePage> {
    await this.loadVisible(viewer, scanId);
    return this.deps.repo.timelinePage(scanId, {
      offset: query.offset,
      limit: query.limit,
      detectionsOnly: query.detections === 'only',
      artifact: query.artifact,
    });
  }

  /** The scan's report as one HTML page, from what is stored (the first 20,000 timeline records). */
  async reportHtml(viewer: Viewer, scanId: string): Promise<string> {
    const { scan, device, owner } = await this.loadVisible(viewer, scanId);
    if (scan.status !== 'done' || !scan.startedAt || !scan.finishedAt)
      throw RempartError.conflict(`This scan is ${scan.status}: its report exists once it is done.`);
    const limit = 20_000;
    const page =
      scan.rawPurgedAt === null
        ? await this.deps.repo.timelinePage(scanId, { offset: 0, limit, detectionsOnly: false })
        : { total: 0, events: [] };
    const report: ScanReport = {
      kind: scan.kind,
      device: scan.deviceInfo ?? {},
      startedAt: scan.startedAt.toISOString(),
      finishedAt: scan.finishedAt.toISOString(),
      indicators: scan.indicators ?? { count: 0, sources: [] },
      artifacts: scan.artifacts as unknown as ScanReport['artifacts'],
      timeline: page.events,
      detections: scan.detections as unknown as TimelineEvent[],
    };
    const html = renderHtmlReport(report, {
      title: `Spyware check of ${device.name} (${owner}), ${scan.finishedAt.toISOString().slice(0, 10)}`,
      timelineLimit: limit,
    });
    const note =
      scan.rawPurgedAt !== null
        ? `<p>The timeline was deleted on ${scan.rawPurgedAt.toISOString()} at the end of its retention; the findings above remain.</p>`
        : page.total > limit
          ? `<p>The first ${limit.toLocaleString('en-US')} of ${page.total.toLocaleString('en-US')} records; the API pages through them all.</p>`
          : '';
    return html.replace('<h2>Timeline</h2>', `<h2>Timeline</h2>${note}`);
  }

  // ------------------------------------------------------------------- helpers

  private async load(scanId: string): Promise<{ scan: ScanRow; device: DeviceRow; owner: string }> {
    const scan = await this.deps.repo.scanById(scanId);
    const device = scan && (await this.deps.repo.deviceById(scan.deviceId));
    if (!scan || !device) throw RempartError.notFound('scan');
    return { scan, device, owner: await this.ownerEmail(device.ownerId) };
  }

  /** The scan when the viewer may see it (an administrator, or the device's owner); not_found otherwise. */
  private async loadVisible(
    viewer: Viewer,
    scanId: string,
  ): Promise<{ scan: ScanRow; device: DeviceRow; owner: string }> {
    const found = await this.load(scanId);
    if (viewer.role !== 'admin' && found.device.ownerId !== viewer.id) throw RempartError.notFound('scan');
    return found;
  }

  private async ownerEmail(id: string): Promise<string> {
    return (await this.ownerEmails([id])).get(id) ?? '';
  }

  private async ownerEmails(ids: string[]): Promise<Map<string, string>> {
    const agents = await this.deps.agentsByIds([...new Set(ids)]);
    return new Map(agents.map((a) => [a.id, a.email]));
  }

  private scanView(scan: ScanRow, device: DeviceRow, owner: string): Scan {
    const consent = Consent.safeParse(scan.consent);
    return {
      id: scan.id,
      deviceId: device.id,
      device: { name: device.name, platform: device.platform, owner },
      kind: scan.kind,
      purpose: scan.purpose,
      status: scan.status,
      requestedBy: scan.requestedBy,
      requestedAt: scan.requestedAt.toISOString(),
      consent: consent.success ? consent.data : null,
      progress: scan.progress ?? null,
      startedAt: scan.startedAt?.toISOString() ?? null,
      finishedAt: scan.finishedAt?.toISOString() ?? null,
      verdict: scan.verdict ?? null,
      malware: scan.malware,
      indicators: scan.indicators ?? null,
      deviceInfo: scan.deviceInfo ?? {},
      artifacts: scan.artifacts as unknown as Scan['artifacts'],
      detections: scan.detections as unknown as TimelineEvent[],
      timelineCount: scan.timelineCount,
      rawKeptUntil: scan.rawKeptUntil?.toISOString() ?? null,
      rawPurgedAt: scan.rawPurgedAt?.toISOString() ?? null,
      error: scan.error ?? null,
    };
  }
}

/** Which scans read which phones. */
function platformAccepts(platform: 'ios' | 'android', kind: ScanKind): boolean {
  return platform === 'ios'
    ? kind === 'ios-backup' || kind === 'sysdiagnose'
    : kind === 'android-bugreport' || kind === 'androidqf';
}

/** The library's scanner of each kind. */
export function runScanner(kind: ScanKind, root: string, options: IosBackupOptions): Promise<ScanResult> {
  switch (kind) {
    case 'ios-backup':
      return scanIosBackup(root, options);
    case 'sysdiagnose':
      return scanSysdiagnose(root, options);
    case 'android-bugreport':
      return scanAndroidBugreport(root, options);
    case 'androidqf':
      return scanAndroidqf(root, options);
  }
}

/** A failed scan's message for the console: the scanner's words, without the server's paths. */
function scanErrorMessage(error: unknown, root: string): string {
  const message =
    error instanceof RempartError
      ? error.message
      : `The scan stopped on an unexpected error (${error instanceof Error ? error.name : 'error'}).`;
  return message.replaceAll(`${root}/`, '').replaceAll(root, 'the artifact');
}

/** A device's state from its scans, newest first: the latest one not withdrawn says it. */
function deviceView(device: DeviceRow, owner: string, scans: readonly ScanRow[]): SpywareDevice {
  const latest = scans.find((s) => s.status !== 'withdrawn');
  const lastDone = scans.find((s) => s.status === 'done');
  const status: SpywareDevice['status'] =
    latest === undefined
      ? 'never_scanned'
      : latest.status === 'done'
        ? (latest.verdict ?? 'clean')
        : (latest.status as Exclude<ScanRow['status'], 'done' | 'withdrawn'>);
  return {
    id: device.id,
    owner: { id: device.ownerId, email: owner },
    name: device.name,
    platform: device.platform,
    serial: device.serial,
    status,
    lastScanAt: lastDone?.finishedAt?.toISOString() ?? null,
    malware: lastDone?.malware ?? [],
    detections: lastDone?.detections.length ?? 0,
  };
}
