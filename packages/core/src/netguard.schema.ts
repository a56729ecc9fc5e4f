/**
 * The network guard contract: groups of clients with their categories and lists, the lists
 * themselves, a verdict explained, the query statistics, and the devices whose installed apps
 * are checked against their group's policy. The HTTP API, the CLI and the console share it.
 */
import { z } from 'zod';

/** The id of the group every client belongs to when no other group claims it. */
export const DEFAULT_GROUP_ID = 'default';

/** The categories that ship with Rempart. */
export const netguardCategoryIds = ['tiktok-bytedance', 'spyware', 'doh-bypass'] as const;
export const CategoryId = z.enum(netguardCategoryIds);
export type CategoryId = z.infer<typeof CategoryId>;

/**
 * How a blocked name is answered: NXDOMAIN (the name does not exist), `null` (0.0.0.0 and ::,
 * so the client connects nowhere), or `blockpage` (the address of a page that explains the policy).
 */
export const BlockMode = z.enum(['nxdomain', 'null', 'blockpage']);
export type BlockMode = z.infer<typeof BlockMode>;

/** An IPv4 or IPv6 range in CIDR notation; a lone address is a /32 or /128. */
export const Cidr = z
  .string()
  .trim()
  .max(64)
  .regex(
    /^(?:(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:\/\d{1,3})?)$/,
    'must be an IPv4 or IPv6 address or range, e.g. 10.20.0.0/16',
  );

export const GroupId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, e.g. cabinet-ministre');

export const GroupInput = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().trim().max(1000).default(''),
  /** The clients of the group; the default group has none (it takes every client left). */
  cidrs: z.array(Cidr).max(1000).default([]),
  categories: z.array(CategoryId).max(netguardCategoryIds.length).default([]),
  /** Ids of stored lists (block lists and allow-lists). */
  lists: z.array(z.uuid()).max(100).default([]),
  blockMode: BlockMode.default('nxdomain'),
  /** Trusted clients are never rate-limited. */
  trusted: z.boolean().default(false),
  /**
   * Device policy: no app outside the managed catalogue, no install from elsewhere. Off by
   * default: on Android, a policy that only allows listed apps removes every other app.
   */
  noPrivateApps: z.boolean().default(false),
});
export type GroupInput = z.input<typeof GroupInput>;

export const Group = GroupInput.extend({
  id: GroupId,
  updatedAt: z.iso.datetime(),
}).meta({ id: 'NetguardGroup' });
export type Group = z.infer<typeof Group>;

export const ListAction = z.enum(['block', 'allow']);
export type ListAction = z.infer<typeof ListAction>;
export const ListFormat = z.enum(['auto', 'hosts', 'domains', 'adblock']);
export type ListFormat = z.infer<typeof ListFormat>;

/** The largest list upload, in bytes: a million domains in hosts format fit. */
export const NETGUARD_LIST_MAX_BYTES = 64 * 1024 * 1024;

export const ListProblem = z.object({ line: z.number().int().positive(), reason: z.string() });

export const NetguardList = z
  .object({
    id: z.uuid(),
    name: z.string(),
    action: ListAction,
    format: ListFormat,
    /** Uploaded (kept in the database) or read from a file on the server and re-read when it changes. */
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('upload') }),
      z.object({ kind: z.literal('file'), path: z.string() }),
    ]),
    rules: z.number().int().nonnegative(),
    problems: z.array(ListProblem).max(100),
    problemCount: z.number().int().nonnegative(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'NetguardList' });
export type NetguardList = z.infer<typeof NetguardList>;

export const ListUploadQuery = z.object({
  name: z.string().trim().min(1).max(120),
  action: ListAction.default('block'),
  format: ListFormat.default('auto'),
});

export const Category = z.object({
  id: CategoryId,
  title: z.string(),
  description: z.string(),
  source: z.string(),
  domains: z.number().int().nonnegative(),
  apps: z.object({ android: z.array(z.string()), ios: z.array(z.string()) }),
});
export type Category = z.infer<typeof Category>;

/** One rule that matched a name, and where it comes from. */
export const RuleMatch = z.object({
  action: ListAction,
  list: z.string(),
  category: CategoryId.optional(),
  line: z.number().int().nonnegative(),
  rule: z.string(),
  /** Malware named by the indicator, for the spyware category. */
  malware: z.string().optional(),
});
export type RuleMatch = z.infer<typeof RuleMatch>;

export const DnsVerdict = z
  .object({
    domain: z.string(),
    client: z.string(),
    group: z.object({ id: z.string(), name: z.string(), why: z.string() }),
    action: ListAction,
    /** The rule that decided: an allow rule wins over every block rule. */
    decidedBy: RuleMatch.optional(),
    matches: z.array(RuleMatch),
    blockMode: BlockMode,
  })
  .meta({ id: 'DnsVerdict' });
export type DnsVerdict = z.infer<typeof DnsVerdict>;

export const DnsTestQuery = z.object({
  domain: z.string().trim().min(1).max(253),
  client: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
});

export const QueryStatsQuery = z.object({
  /** The window, in hours back from now. */
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24),
});

export const QueryStats = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    bucketSeconds: z.number().int().positive(),
    totals: z.object({ queries: z.number(), blocked: z.number(), cached: z.number(), clients: z.number() }),
    /** Queries and blocks over time, oldest first. */
    series: z.array(z.object({ at: z.iso.datetime(), queries: z.number(), blocked: z.number() })),
    topBlocked: z.array(z.object({ name: z.string(), count: z.number(), list: z.string() })),
    topClients: z.array(z.object({ client: z.string(), queries: z.number(), blocked: z.number() })),
    /** What the resolver itself counts since it started (live, not from the log). */
    resolver: z
      .object({
        listening: z.array(z.string()),
        queries: z.number(),
        blocked: z.number(),
        cacheHits: z.number(),
        upstreamFailures: z.number(),
        dropped: z.number(),
        rateLimited: z.number(),
        notLogged: z.number(),
      })
      .optional(),
  })
  .meta({ id: 'QueryStats' });
export type QueryStats = z.infer<typeof QueryStats>;

export const DevicePlatform = z.enum(['ios', 'android']);
export type DevicePlatform = z.infer<typeof DevicePlatform>;

/** An app identifier: an iOS bundle id or an Android package name. */
export const AppId = z
  .string()
  .trim()
  .max(255)
  .regex(
    /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/,
    'must be a bundle id or package name, e.g. com.example.app',
  );

export const DeviceEnrolment = z.object({
  name: z.string().trim().min(1).max(120),
  platform: DevicePlatform,
  /** The agent the device is issued to. */
  owner: z.email().optional(),
  group: GroupId.default(DEFAULT_GROUP_ID),
  serial: z.string().trim().max(64).optional(),
});

export const InventoryReport = z.object({
  osVersion: z.string().trim().max(64).optional(),
  /** The device's current addresses: its DNS queries are then judged by its group. */
  addresses: z
    .array(z.union([z.ipv4(), z.ipv6()]))
    .max(16)
    .default([]),
  apps: z.array(AppId).max(5000),
});
export type InventoryReport = z.infer<typeof InventoryReport>;

export const Violation = z.object({
  app: z.string(),
  reason: z.enum(['blocked', 'not_in_catalogue']),
  category: z.string().optional(),
});

export const Device = z
  .object({
    id: z.uuid(),
    name: z.string(),
    platform: DevicePlatform,
    owner: z.string().nullable(),
    group: z.string(),
    serial: z.string().nullable(),
    addresses: z.array(z.string()),
    enrolledAt: z.iso.datetime(),
    lastReportAt: z.iso.datetime().nullable(),
    osVersion: z.string().nullable(),
    apps: z.number().int().nonnegative(),
    /** Unknown until the device has reported. */
    compliant: z.boolean().nullable(),
    violations: z.array(Violation),
  })
  .meta({ id: 'Device' });
export type Device = z.infer<typeof Device>;

export const EnrolledDevice = z.object({
  device: Device,
  /** Shown once: the device reports its apps with it (`Authorization: Bearer …`). */
  token: z.string(),
});

export const MdmImportResult = z
  .object({
    /** Devices of the export already enrolled, whose apps were replaced by the export's. */
    updated: z.number().int().nonnegative(),
    /** Devices of the export not enrolled yet: enrolled in the default group, by serial number. */
    enrolled: z.number().int().nonnegative(),
    notCompliant: z.array(z.object({ device: z.string(), apps: z.array(z.string()) })),
    errors: z.array(z.object({ line: z.number().int().nonnegative(), message: z.string() })),
    errorsOmitted: z.number().int().nonnegative(),
  })
  .meta({ id: 'MdmImportResult' });
export type MdmImportResult = z.infer<typeof MdmImportResult>;

export const PolicyExportQuery = z.object({
  platform: DevicePlatform,
  group: GroupId.default(DEFAULT_GROUP_ID),
});

// --- resolver replicas -------------------------------------------------------------------------

/**
 * What a DNS resolver replica (`rempart dns serve --replica-of URL`) needs to decide as the
 * platform does: the groups with their categories and lists, the enrolled devices' addresses, the
 * ranges never rate-limited, the block page and whether queries are logged. Lists travel by id and
 * version; a replica fetches the text of a version it does not hold. `version` changes whenever
 * any of it does, so a replica polling with it learns of a change in one request.
 */
export const ReplicaPolicy = z
  .object({
    version: z.string(),
    groups: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        cidrs: z.array(z.string()),
        blockMode: BlockMode,
        trusted: z.boolean(),
        categories: z.array(CategoryId),
        /** Ids of the group's lists, in order. */
        lists: z.array(z.string()),
      }),
    ),
    lists: z.array(
      z.object({
        id: z.string(),
        /** Changes with the list's text. */
        version: z.string(),
        name: z.string(),
        action: ListAction,
        format: ListFormat,
      }),
    ),
    devices: z.array(z.object({ address: z.string(), group: z.string(), device: z.string() })),
    trusted: z.array(z.string()),
    blockPage: z.object({ v4: z.string().optional(), v6: z.string().optional() }),
    /** Days the platform keeps the query log; 0: a replica ships nothing. */
    logDays: z.number().int().nonnegative(),
    /**
     * The revision of the spyware category's domains (the spyware check's indicator store: the
     * shipped bundles and those imported since), a digest of them. A replica holding another one
     * fetches them (`ReplicaSpywareDomains`); one holding this one fetches nothing. Absent: the
     * platform blocks the shipped bundles' domains, which a replica reads from its own files.
     */
    spywareRevision: z.string().min(1).optional(),
  })
  .meta({ id: 'ReplicaPolicy' });
export type ReplicaPolicy = z.infer<typeof ReplicaPolicy>;

/**
 * The spyware category's domains as the platform blocks them, for a replica to compile the same
 * category: each domain with the indicator set it comes from, the STIX indicator's id and the
 * malware it indicates (the alert names it).
 *
 * @example
 *   { revision: 'mY0…', domains: [{ domain: 'weather4free.com', source: 'pegasus.stix2',
 *     indicator: 'indicator--05b7…', malware: ['Pegasus'] }] }
 */
export const ReplicaSpywareDomains = z
  .object({
    /** The `spywareRevision` of the policy these domains belong to. */
    revision: z.string().min(1),
    domains: z.array(
      z.object({
        domain: z.string().min(1),
        source: z.string(),
        indicator: z.string(),
        malware: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'ReplicaSpywareDomains' });
export type ReplicaSpywareDomains = z.infer<typeof ReplicaSpywareDomains>;

/** The most rows one batch of a replica's query log may hold. */
export const REPLICA_BATCH_MAX_ROWS = 20_000;

/** One row of a replica's query log: identical queries between two shipments counted once. */
export const ReplicaQueryRow = z.object({
  /** Time of the first of these queries, in milliseconds since 1970. */
  at: z.number().int().nonnegative(),
  client: z.string().min(1).max(64),
  protocol: z.enum(['udp', 'tcp', 'doh']),
  name: z.string().max(253),
  type: z.string().min(1).max(16),
  groupId: z.string().min(1).max(64),
  action: ListAction,
  list: z.string().max(512).nullable(),
  rule: z.string().max(4096).nullable(),
  rcode: z.string().min(1).max(16),
  cached: z.boolean(),
  durationMs: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** For a name of the spyware category: the family named by the indicator ('' when none). */
  spyware: z.object({ malware: z.string().max(512) }).optional(),
});
export type ReplicaQueryRow = z.infer<typeof ReplicaQueryRow>;

/** A shipment of a replica's query log. */
export const ReplicaQueryBatch = z.object({
  /** The replica's name (its host name by default), for the log and the alerts. */
  replica: z.string().min(1).max(100),
  rows: z.array(ReplicaQueryRow).max(REPLICA_BATCH_MAX_ROWS),
  /** Queries the replica could not log since its last shipment (its buffer was full). */
  notLogged: z.number().int().nonnegative().default(0),
});
export type ReplicaQueryBatch = z.infer<typeof ReplicaQueryBatch>;
