/**
 * The spyware check contract: indicators of compromise (read from STIX 2 bundles, with the
 * Mobile Verification Toolkit's extensions), the timeline a scan of a phone's artifacts makes,
 * and the detections in it. The scanners, the CLI, the HTTP API and the console share it.
 */
import { z } from 'zod';

/**
 * What an indicator names, from the STIX object path of its pattern:
 * `domain-name:value` (an IP address there is read as one), `ipv4-addr:value`, `ipv6-addr:value`,
 * `url:value`, `email-addr:value`, `process:name`, `file:name`, `file:path`,
 * `file:hashes.sha256|sha1|md5`, and MVT's `app:id`, `app:cert.sha256|sha1|md5`,
 * `configuration-profile:id`, `android-property:name`.
 */
export const indicatorTypes = [
  'domain',
  'ipv4',
  'ipv6',
  'url',
  'email',
  'process',
  'file-name',
  'file-path',
  'sha256',
  'sha1',
  'md5',
  'app-id',
  'app-cert',
  'configuration-profile',
  'android-property',
] as const;
export const IndicatorType = z.enum(indicatorTypes);
export type IndicatorType = z.infer<typeof IndicatorType>;

/** One value to look for, and what it means. */
export const Indicator = z
  .object({
    type: IndicatorType,
    /** Normalised: lower case for names, addresses and hashes; as published for paths and ids. */
    value: z.string().min(1),
    /** The STIX indicator's id. */
    indicatorId: z.string().min(1),
    /** The bundle it came from (its file name, or the name given at import). */
    source: z.string().min(1),
    /** Names of the malware (or campaign, tool…) the indicator `indicates`. */
    malware: z.array(z.string()),
  })
  .meta({ id: 'SpywareIndicator' });
export type Indicator = z.infer<typeof Indicator>;

/** The artifacts a scan reads. */
export const scanKinds = ['ios-backup', 'sysdiagnose', 'android-bugreport', 'androidqf'] as const;
export const ScanKind = z.enum(scanKinds);
export type ScanKind = z.infer<typeof ScanKind>;

/** An indicator found in a record of an artifact. */
export const Detection = z
  .object({
    type: IndicatorType,
    /** The indicator's value. */
    indicator: z.string(),
    indicatorId: z.string(),
    source: z.string(),
    malware: z.array(z.string()),
    /** What in the record matched (a URL whose host is under an indicator domain, a process name…). */
    matched: z.string(),
  })
  .meta({ id: 'SpywareDetection' });
export type Detection = z.infer<typeof Detection>;

/** One record of an artifact on the scan's timeline. */
export const TimelineEvent = z
  .object({
    /** When the record says it happened (ISO 8601), or null when it does not say. */
    at: z.iso.datetime().nullable(),
    /** The module that read it: `sms`, `safari_history`, `datausage`, `shutdown_log`, `packages`… */
    artifact: z.string(),
    /** The file it was read from, inside the backup, sysdiagnose or bug report. */
    file: z.string(),
    /** The record, in one line. */
    record: z.string(),
    detection: Detection.optional(),
  })
  .meta({ id: 'SpywareTimelineEvent' });
export type TimelineEvent = z.infer<typeof TimelineEvent>;

/** How one artifact of a scan went. */
export const ArtifactStatus = z.object({
  artifact: z.string(),
  status: z.enum(['read', 'missing', 'failed']),
  records: z.number().int().nonnegative(),
  detections: z.number().int().nonnegative(),
  /** Why it is missing or failed. */
  message: z.string().optional(),
});
export type ArtifactStatus = z.infer<typeof ArtifactStatus>;

/** What a scan found. */
export const ScanReport = z
  .object({
    kind: ScanKind,
    /** What the artifacts say of the device: name, model, OS version, serial, IMEI… when present. */
    device: z.record(z.string(), z.string()),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    indicators: z.object({ count: z.number().int(), sources: z.array(z.string()) }),
    artifacts: z.array(ArtifactStatus),
    /** Every record read, oldest first (records without a time last). */
    timeline: z.array(TimelineEvent),
    /** The records with a detection. */
    detections: z.array(TimelineEvent),
  })
  .meta({ id: 'SpywareScanReport' });
export type ScanReport = z.infer<typeof ScanReport>;

// --- the indicator store -------------------------------------------------------------------------

/** Where a set of indicators came from: the install, the console, the CLI or the watched folder. */
export const IndicatorOrigin = z.enum(['shipped', 'upload', 'cli', 'folder']);
export type IndicatorOrigin = z.infer<typeof IndicatorOrigin>;

/** A STIX 2 bundle in the indicator store. */
export const IndicatorSet = z
  .object({
    /** A UUID; a shipped bundle's id is `shipped:<file name>`. */
    id: z.string(),
    name: z.string(),
    origin: IndicatorOrigin,
    importedAt: z.iso.datetime().nullable(),
    importedBy: z.string().nullable(),
    indicators: z.number().int().nonnegative(),
    byType: z.record(z.string(), z.number().int().nonnegative()),
    malware: z.array(z.string()),
    /** Indicators of the bundle that cannot be matched alone (see `skipped` of an import). */
    skipped: z.number().int().nonnegative(),
  })
  .meta({ id: 'SpywareIndicatorSet' });
export type IndicatorSet = z.infer<typeof IndicatorSet>;

/** A bundle's name in the store: what its detections cite as their source. */
export const IndicatorSetName = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .regex(/^[\w.+-]+$/, 'letters, digits, dots, dashes and underscores, e.g. pegasus-2024.stix2');

export const IndicatorImportQuery = z.strictObject({ name: IndicatorSetName });

/** A match of new indicators in what the platform already holds. */
export const RetroHunt = z
  .object({
    id: z.uuid(),
    /** The set whose import started it. */
    setId: z.string(),
    setName: z.string(),
    status: z.enum(['running', 'done', 'failed']),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    progress: z.object({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
    /** Clients of the DNS query log that asked for a name the new indicators list. */
    dnsHits: z.array(
      z.object({
        client: z.string(),
        domain: z.string(),
        indicator: z.string(),
        malware: z.array(z.string()),
        firstSeen: z.iso.datetime(),
        lastSeen: z.iso.datetime(),
        count: z.number().int().positive(),
      }),
    ),
    /** Stored scans (whose raw extracts are still kept) with new detections. */
    scanHits: z.array(
      z.object({
        scanId: z.uuid(),
        deviceId: z.uuid(),
        device: z.string(),
        owner: z.string(),
        detections: z.number().int().positive(),
        malware: z.array(z.string()),
      }),
    ),
    error: z.string().nullable(),
  })
  .meta({ id: 'SpywareRetroHunt' });
export type RetroHunt = z.infer<typeof RetroHunt>;

export const IndicatorImport = z
  .object({
    set: IndicatorSet,
    /** The indicators left out and why (at most 100; `skippedOmitted` more). */
    skipped: z.array(z.object({ indicator: z.string(), value: z.string().optional(), reason: z.string() })),
    skippedOmitted: z.number().int().nonnegative(),
    /** Started at once over the DNS query log and the stored scans. */
    retroHunt: RetroHunt,
  })
  .meta({ id: 'SpywareIndicatorImport' });
export type IndicatorImport = z.infer<typeof IndicatorImport>;

// --- the fleet: devices, consent, scans -------------------------------------------------------------

export const SpywarePlatform = z.enum(['ios', 'android']);

/** The statuses of a scan: it waits for the owner's consent, then for its artifact. */
export const ScanStatus = z.enum(['awaiting_consent', 'ready', 'scanning', 'done', 'failed', 'withdrawn']);
export type ScanStatus = z.infer<typeof ScanStatus>;

/** A device's state, from its latest scan. */
export const DeviceStatus = z.enum([
  'never_scanned',
  'awaiting_consent',
  'ready',
  'scanning',
  'clean',
  'infected',
  'failed',
]);
export type DeviceStatus = z.infer<typeof DeviceStatus>;

export const Consent = z.discriminatedUnion('by', [
  /** The owner consented in the console, signed in with MFA. */
  z.object({ by: z.literal('agent'), at: z.iso.datetime(), agent: z.string() }),
  /** An administrator attached the owner's signed paper form. */
  z.object({
    by: z.literal('form'),
    at: z.iso.datetime(),
    attachedBy: z.string(),
    fileName: z.string(),
    sha256: z.string(),
  }),
]);
export type Consent = z.infer<typeof Consent>;

export const SpywareDevice = z
  .object({
    id: z.uuid(),
    owner: z.object({ id: z.uuid(), email: z.string() }),
    name: z.string(),
    platform: SpywarePlatform,
    serial: z.string().nullable(),
    status: DeviceStatus,
    lastScanAt: z.iso.datetime().nullable(),
    /** Malware named by the latest finished scan's detections (and later retro-hunts). */
    malware: z.array(z.string()),
    detections: z.number().int().nonnegative(),
  })
  .meta({ id: 'SpywareDevice' });
export type SpywareDevice = z.infer<typeof SpywareDevice>;

export const Scan = z
  .object({
    id: z.uuid(),
    deviceId: z.uuid(),
    device: z.object({ name: z.string(), platform: SpywarePlatform, owner: z.string() }),
    kind: ScanKind,
    purpose: z.string(),
    status: ScanStatus,
    requestedBy: z.string(),
    requestedAt: z.iso.datetime(),
    consent: Consent.nullable(),
    progress: z.object({ artifact: z.string(), done: z.number().int(), total: z.number().int() }).nullable(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    verdict: z.enum(['clean', 'infected']).nullable(),
    malware: z.array(z.string()),
    indicators: z.object({ count: z.number().int(), sources: z.array(z.string()) }).nullable(),
    deviceInfo: z.record(z.string(), z.string()),
    artifacts: z.array(ArtifactStatus),
    detections: z.array(TimelineEvent),
    timelineCount: z.number().int().nonnegative(),
    /** When the uploaded artifact and the timeline are deleted (the findings stay). */
    rawKeptUntil: z.iso.datetime().nullable(),
    rawPurgedAt: z.iso.datetime().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'SpywareScan' });
export type Scan = z.infer<typeof Scan>;

export const DeviceDetail = z
  .object({ device: SpywareDevice, scans: z.array(Scan) })
  .meta({ id: 'SpywareDeviceDetail' });
export type DeviceDetail = z.infer<typeof DeviceDetail>;

/** An administrator asks for a check of an agent's device, and says why. */
export const ScanRequest = z.strictObject({
  /** The agent the device belongs to. */
  owner: z.email(),
  device: z.strictObject({
    name: z.string().trim().min(1).max(120),
    platform: SpywarePlatform,
    serial: z.string().trim().max(64).optional(),
  }),
  kind: ScanKind,
  purpose: z.string().trim().min(10).max(1000),
});
export type ScanRequest = z.infer<typeof ScanRequest>;

export const ConsentInput = z.strictObject({ consent: z.literal(true) });
export const ConsentFormQuery = z.strictObject({ fileName: z.string().trim().min(1).max(200) });

export const TimelineQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  /** Only the events with a detection. */
  detections: z.enum(['all', 'only']).default('all'),
  /** Only the events of one artifact module. */
  artifact: z.string().max(64).optional(),
});
export const TimelinePage = z
  .object({ total: z.number().int().nonnegative(), events: z.array(TimelineEvent) })
  .meta({ id: 'SpywareTimelinePage' });
export type TimelinePage = z.infer<typeof TimelinePage>;
