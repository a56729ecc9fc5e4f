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
