/**
 * The database schema (PostgreSQL dialect, the same on PGlite and PostgreSQL).
 * Migrations in ../../drizzle are generated from this file by drizzle-kit and committed.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    unit: text('unit').notNull().default(''),
    role: text('role', { enum: ['admin', 'host', 'agent'] }).notNull(),
    clearance: text('clearance', { enum: ['public', 'internal', 'restricted', 'secret'] }).notNull(),
    status: text('status', { enum: ['pending', 'active', 'disabled'] }).notNull(),
    passwordHash: text('password_hash'),
    /** WebAuthn user handle: random, never the email (W3C WebAuthn §14.6.1). */
    webauthnUserId: bytea('webauthn_user_id').notNull(),
    createdAt: ts('created_at').notNull(),
    lastSignInAt: ts('last_sign_in_at'),
  },
  (t) => [uniqueIndex('agents_email_key').on(t.email)],
);

export const enrolmentTokens = pgTable(
  'enrolment_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [
    uniqueIndex('enrolment_tokens_hash_key').on(t.tokenHash),
    index('enrolment_tokens_agent_idx').on(t.agentId),
  ],
);

export const factors = pgTable(
  'factors',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['totp', 'webauthn'] }).notNull(),
    label: text('label').notNull(),
    /** TOTP seed, sealed with the server key (AES-256-GCM); never stored in clear. */
    totpSecretSealed: text('totp_secret_sealed'),
    /** Last accepted TOTP time step: a code of this step or earlier is refused (RFC 6238 §5.2). */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    credentialId: text('credential_id'),
    publicKey: bytea('public_key'),
    signCount: bigint('sign_count', { mode: 'number' }),
    transports: jsonb('transports').$type<string[]>(),
    confirmed: boolean('confirmed').notNull().default(false),
    createdAt: ts('created_at').notNull(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [
    index('factors_agent_idx').on(t.agentId),
    uniqueIndex('factors_credential_key')
      .on(t.credentialId)
      .where(sql`${t.credentialId} is not null`),
  ],
);

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [uniqueIndex('recovery_codes_hash_key').on(t.agentId, t.codeHash)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    stage: text('stage', { enum: ['enrol', 'mfa', 'full'] }).notNull(),
    createdAt: ts('created_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    mfaAt: ts('mfa_at'),
    /** How the last second-factor check was made; says which `amr`/`acr` an OpenID client is told. */
    mfaMethod: text('mfa_method', { enum: ['totp', 'webauthn', 'passkey', 'recovery'] }),
    ip: text('ip').notNull(),
    userAgent: text('user_agent').notNull(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('sessions_token_key').on(t.tokenHash), index('sessions_agent_idx').on(t.agentId)],
);

export const webauthnChallenges = pgTable('webauthn_challenges', {
  id: uuid('id').primaryKey().defaultRandom(),
  purpose: text('purpose', { enum: ['register', 'authenticate'] }).notNull(),
  challenge: text('challenge').notNull(),
  agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
  sessionId: uuid('session_id').references(() => sessions.id, { onDelete: 'cascade' }),
  expiresAt: ts('expires_at').notNull(),
});

/** Failure counters for sign-in throttling, keyed by "email:…" or "ip:…". */
export const throttles = pgTable('throttles', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  firstFailureAt: ts('first_failure_at').notNull(),
  lastFailureAt: ts('last_failure_at').notNull(),
  lockedUntil: ts('locked_until'),
  locks: integer('locks').notNull().default(0),
});

/** Append-only, hash-chained. `seq` is assigned under a lock so the chain has no gaps. */
export const auditLog = pgTable('audit_log', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  at: ts('at').notNull(),
  actorId: text('actor_id'),
  actor: text('actor'),
  action: text('action').notNull(),
  outcome: text('outcome', { enum: ['success', 'failure', 'denied'] }).notNull(),
  targetId: text('target_id'),
  ip: text('ip'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/** The chain's head, updated with every append: truncating the tail is detected too. */
export const auditHead = pgTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    createdAt: ts('created_at').notNull(),
    severity: text('severity', { enum: ['info', 'low', 'medium', 'high', 'critical'] }).notNull(),
    source: text('source', {
      enum: ['identity', 'audit', 'meetings', 'leakcheck', 'netguard', 'spyware', 'serverwatch'],
    }).notNull(),
    title: text('title').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
  },
  (t) => [index('alerts_created_idx').on(t.createdAt)],
);

/** Server-wide settings and keys that must be shared by every process (e.g. the CSRF key). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * What the OpenID provider keeps (sessions, interactions, codes, tokens, grants), one row per
 * artifact, as oidc-provider's adapter interface stores it: `kind` is the model's name.
 */
export const oidcPayloads = pgTable(
  'oidc_payloads',
  {
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    userCode: text('user_code'),
    uid: text('uid'),
    expiresAt: ts('expires_at'),
    consumedAt: ts('consumed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.id] }),
    index('oidc_payloads_grant_idx').on(t.grantId),
    index('oidc_payloads_uid_idx').on(t.uid),
    index('oidc_payloads_expires_idx').on(t.expiresAt),
  ],
);

/** A relying party registered by an administrator. The secret is sealed with the server key. */
export const oidcClients = pgTable('oidc_clients', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretSealed: text('secret_sealed'),
  redirectUris: jsonb('redirect_uris').$type<string[]>().notNull(),
  postLogoutRedirectUris: jsonb('post_logout_redirect_uris').$type<string[]>().notNull(),
  backchannelLogoutUri: text('backchannel_logout_uri'),
  /** The oldest MFA check accepted for a sign-in to this client, in seconds; null: the session's. */
  mfaMaxAge: integer('mfa_max_age'),
  scopes: jsonb('scopes').$type<string[]>().notNull(),
  createdAt: ts('created_at').notNull(),
  createdBy: uuid('created_by'),
  disabledAt: ts('disabled_at'),
});

/** The provider's signing keys (JWK, private part sealed); the newest active one signs. */
export const oidcKeys = pgTable('oidc_keys', {
  kid: text('kid').primaryKey(),
  jwkSealed: text('jwk_sealed').notNull(),
  createdAt: ts('created_at').notNull(),
  /** Past this time the key no longer signs, but stays published until `retiredAt`. */
  rotatedAt: ts('rotated_at'),
  retiredAt: ts('retired_at'),
});

/**
 * A per-device mail password: shown once, kept as a keyed hash, scoped to mail, expiring.
 * `lastUsedAt`/`lastIp` say which device read the agent's mail from where.
 */
export const mailPasswords = pgTable(
  'mail_passwords',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    device: text('device').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    revokedBy: uuid('revoked_by'),
    lastUsedAt: ts('last_used_at'),
    lastIp: text('last_ip'),
    lastService: text('last_service'),
    uses: integer('uses').notNull().default(0),
  },
  (t) => [
    uniqueIndex('mail_passwords_hash_key').on(t.secretHash),
    index('mail_passwords_agent_idx').on(t.agentId),
  ],
);

/** A meeting. `linkId` is the 128-bit random `<id>` of `/m/<id>`; rotating it kills the old link. */
export const meetings = pgTable(
  'meetings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    linkId: text('link_id').notNull(),
    title: text('title').notNull(),
    classification: text('classification', {
      enum: ['public', 'internal', 'restricted', 'secret'],
    }).notNull(),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    lobby: boolean('lobby').notNull(),
    guests: boolean('guests').notNull(),
    /** Media and chat end-to-end encrypted (always for restricted and secret meetings). */
    e2ee: boolean('e2ee').notNull().default(true),
    locked: boolean('locked').notNull().default(false),
    endedAt: ts('ended_at'),
    createdAt: ts('created_at').notNull(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => agents.id),
  },
  (t) => [uniqueIndex('meetings_link_key').on(t.linkId), index('meetings_starts_idx').on(t.startsAt)],
);

/** Hosts and invited agents of a meeting. */
export const meetingMembers = pgTable(
  'meeting_members',
  {
    meetingId: uuid('meeting_id')
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['host', 'invitee'] }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.meetingId, t.agentId] }),
    index('meeting_members_agent_idx').on(t.agentId),
  ],
);

/** Organisational units invited as a whole: every agent of the unit is an invitee. */
export const meetingUnits = pgTable(
  'meeting_units',
  {
    meetingId: uuid('meeting_id')
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    unit: text('unit').notNull(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.unit] }), index('meeting_units_unit_idx').on(t.unit)],
);

/** An external guest's pass to one meeting: an emailed one-time code, then a cookie token. */
export const guestPasses = pgTable(
  'guest_passes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    meetingId: uuid('meeting_id')
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: ts('created_at').notNull(),
    codeExpiresAt: ts('code_expires_at').notNull(),
    verifiedAt: ts('verified_at'),
    tokenHash: text('token_hash'),
    ip: text('ip').notNull(),
  },
  (t) => [
    uniqueIndex('guest_passes_token_key').on(t.tokenHash),
    index('guest_passes_meeting_idx').on(t.meetingId),
  ],
);

/**
 * Who is in a running meeting, kept so that a restart of the server loses nobody: after it,
 * each presence waits for its participant to resume (see meetings/resume.ts) for a grace
 * period, then leaves. `presence` is the participant and the verified person behind it.
 */
export const meetingPresences = pgTable(
  'meeting_presences',
  {
    participantId: uuid('participant_id').primaryKey(),
    meetingId: uuid('meeting_id')
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    presence: jsonb('presence').notNull(),
    savedAt: ts('saved_at').notNull(),
  },
  (t) => [index('meeting_presences_meeting_idx').on(t.meetingId)],
);

/**
 * A host's decisions about a person in a meeting (admitted from the lobby, denied, removed),
 * kept so that a restart of the server forgets none: a removed invitee must go through the
 * lobby again, not straight back in. `person_key` is admission's key of the person (agent id,
 * or a guest's address).
 */
export const meetingStandings = pgTable(
  'meeting_standings',
  {
    meetingId: uuid('meeting_id')
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    personKey: text('person_key').notNull(),
    standing: text('standing', { enum: ['admitted', 'denied', 'removed'] }).notNull(),
    decidedAt: ts('decided_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.personKey] })],
);

/** A network guard group: clients (CIDR ranges, enrolled devices) and what their DNS queries may reach. */
export const netguardGroups = pgTable('netguard_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  cidrs: jsonb('cidrs').$type<string[]>().notNull(),
  categories: jsonb('categories').$type<string[]>().notNull(),
  lists: jsonb('lists').$type<string[]>().notNull(),
  blockMode: text('block_mode', { enum: ['nxdomain', 'null', 'blockpage'] }).notNull(),
  trusted: boolean('trusted').notNull().default(false),
  noPrivateApps: boolean('no_private_apps').notNull().default(false),
  updatedAt: ts('updated_at').notNull(),
});

/** A block list or allow-list: uploaded (its text kept here) or read from a file on the server. */
export const netguardLists = pgTable('netguard_lists', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  action: text('action', { enum: ['block', 'allow'] }).notNull(),
  format: text('format', { enum: ['auto', 'hosts', 'domains', 'adblock'] }).notNull(),
  path: text('path'),
  content: text('content'),
  rules: integer('rules').notNull(),
  problems: jsonb('problems').$type<{ line: number; reason: string }[]>().notNull(),
  problemCount: integer('problem_count').notNull(),
  updatedAt: ts('updated_at').notNull(),
  /**
   * One more at every change of the text: with the file's stamp for a list read from a file, what
   * tells a compiled list (and a resolver replica's copy) that it is out of date.
   */
  revision: integer('revision').notNull().default(1),
});

/** The DNS query log, written in batches and pruned after the configured retention. */
export const netguardQueries = pgTable(
  'netguard_queries',
  {
    at: ts('at').notNull(),
    client: text('client').notNull(),
    protocol: text('protocol', { enum: ['udp', 'tcp', 'doh'] }).notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    groupId: text('group_id').notNull(),
    action: text('action', { enum: ['allow', 'block'] }).notNull(),
    list: text('list'),
    rule: text('rule'),
    rcode: text('rcode').notNull(),
    cached: boolean('cached').notNull(),
    /** The longest answer time of the queries this row stands for. */
    durationMs: integer('duration_ms').notNull(),
    /**
     * Identical queries (same client, name, type, protocol and verdict) within one write of the
     * log are one row: how many, the first one's time in `at`.
     */
    count: integer('count').notNull().default(1),
  },
  // Read by time only (statistics over a window, pruning, searches), and written in time order: a
  // BRIN index (one summary per range of pages) finds a window as well as a B-tree would, at almost
  // no cost per row. No key: a row is never read or changed alone. Together the B-tree on the time
  // and the identity key had cost a third of each row's write (an index on the client as well,
  // earlier, another quarter).
  (t) => [index('netguard_queries_at_idx').using('brin', t.at)],
);

/** A phone or tablet enrolled in a group: its reported apps decide whether it complies. */
export const netguardDevices = pgTable(
  'netguard_devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    platform: text('platform', { enum: ['ios', 'android'] }).notNull(),
    ownerId: uuid('owner_id').references(() => agents.id, { onDelete: 'set null' }),
    groupId: text('group_id').notNull(),
    serial: text('serial'),
    tokenHash: text('token_hash').notNull(),
    addresses: jsonb('addresses').$type<string[]>().notNull(),
    apps: jsonb('apps').$type<string[]>().notNull(),
    osVersion: text('os_version'),
    compliant: boolean('compliant'),
    violations: jsonb('violations')
      .$type<{ app: string; reason: 'blocked' | 'not_in_catalogue'; category?: string }[]>()
      .notNull(),
    enrolledAt: ts('enrolled_at').notNull(),
    lastReportAt: ts('last_report_at'),
  },
  (t) => [uniqueIndex('netguard_devices_token_key').on(t.tokenHash)],
);

// --- spyware check ------------------------------------------------------------------------------

/**
 * A STIX 2 bundle imported into the indicator store (by upload, the CLI or the watched folder).
 * The bundle's text is kept whole and read again at start: the indicators are what it says, and
 * the shipped bundles are never rows (they are read from the install).
 */
export const spywareIndicatorSets = pgTable(
  'spyware_indicator_sets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    origin: text('origin', { enum: ['upload', 'folder', 'cli'] }).notNull(),
    /** SHA-256 of the bundle's bytes: the same bundle imported again is the same set. */
    sha256: text('sha256').notNull(),
    content: text('content').notNull(),
    indicators: integer('indicators').notNull(),
    byType: jsonb('by_type').$type<Record<string, number>>().notNull(),
    malware: jsonb('malware').$type<string[]>().notNull(),
    skipped: integer('skipped').notNull(),
    importedAt: ts('imported_at').notNull(),
    importedBy: text('imported_by'),
  },
  (t) => [uniqueIndex('spyware_indicator_sets_name_key').on(t.name)],
);

/** A phone or tablet whose artifacts are checked, filed under the agent it belongs to. */
export const spywareDevices = pgTable(
  'spyware_devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    platform: text('platform', { enum: ['ios', 'android'] }).notNull(),
    serial: text('serial'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('spyware_devices_owner_name_key').on(t.ownerId, t.name)],
);

/**
 * One check of one device: asked for by an administrator with a purpose, run only once its owner
 * consented (in the console, or by a signed form an administrator attached). The findings are
 * kept; the raw extracts (the uploaded artifact and the timeline) only until `rawKeptUntil`.
 */
export const spywareScans = pgTable(
  'spyware_scans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => spywareDevices.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['ios-backup', 'sysdiagnose', 'android-bugreport', 'androidqf'] }).notNull(),
    purpose: text('purpose').notNull(),
    status: text('status', {
      enum: ['awaiting_consent', 'ready', 'scanning', 'done', 'failed', 'withdrawn'],
    }).notNull(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: ts('requested_at').notNull(),
    /** `{ by: 'agent', at, agent }` or `{ by: 'form', at, attachedBy, fileName, sha256 }`. */
    consent: jsonb('consent').$type<Record<string, string>>(),
    /** The signed consent form, as attached (PDF or image). */
    consentForm: bytea('consent_form'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    progress: jsonb('progress').$type<{ artifact: string; done: number; total: number }>(),
    verdict: text('verdict', { enum: ['clean', 'infected'] }),
    malware: jsonb('malware').$type<string[]>().notNull(),
    indicators: jsonb('indicators').$type<{ count: number; sources: string[] }>(),
    deviceInfo: jsonb('device_info').$type<Record<string, string>>(),
    artifacts: jsonb('artifacts').$type<Record<string, unknown>[]>().notNull(),
    /** The timeline events with a detection: kept as long as the scan. */
    detections: jsonb('detections').$type<Record<string, unknown>[]>().notNull(),
    timelineCount: integer('timeline_count').notNull().default(0),
    rawKeptUntil: ts('raw_kept_until'),
    rawPurgedAt: ts('raw_purged_at'),
    error: text('error'),
  },
  (t) => [index('spyware_scans_device_idx').on(t.deviceId, t.requestedAt)],
);

/**
 * Every record a scan read, in order: raw extracts, deleted with the artifact after retention.
 * No foreign key to the scan: checking it cost 40% of each row's write, and a phone's timeline is
 * a million rows; the retention sweep deletes a scan's rows, and scans are never deleted otherwise.
 */
export const spywareTimeline = pgTable(
  'spyware_timeline',
  {
    scanId: uuid('scan_id').notNull(),
    seq: integer('seq').notNull(),
    at: ts('at'),
    artifact: text('artifact').notNull(),
    file: text('file').notNull(),
    record: text('record').notNull(),
    detection: jsonb('detection').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.scanId, t.seq] })],
);

// --- server watch -------------------------------------------------------------------------------

/**
 * Every log event the server watch received, parsed or not, kept for searches and retro-hunts
 * until the retention purges it. What a `WatchEvent` holds is all here (time, log source, fields,
 * raw line, source, parsed), so that stored events can be matched by rules again.
 */
export const watchEvents = pgTable(
  'watch_events',
  {
    // Given by the repository from the sequence before the rows are written: a bulk COPY returns
    // nothing, and the live service needs each event's id to attach it to the hits it raises.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** The event's time (the receiving time when the line had none). */
    at: ts('at').notNull(),
    receivedAt: ts('received_at').notNull(),
    /** The receiver: `syslog-udp`, `syslog-tcp`, `syslog-tls`, a file's path, `http`. */
    source: text('source').notNull(),
    /** The parser that read the line; `raw` when none understood it. */
    format: text('format', {
      enum: ['syslog', 'postfix', 'dovecot', 'sshd', 'iis', 'combined', 'audit', 'windows', 'jsonl', 'raw'],
    }).notNull(),
    logsource: jsonb('logsource')
      .$type<{ product?: string; service?: string; category?: string }>()
      .notNull(),
    host: text('host'),
    /** The normalised (Sigma) fields. */
    fields: jsonb('fields').$type<Record<string, unknown>>().notNull(),
    /** The line as received, cut at 8 KiB. */
    raw: text('raw').notNull(),
    parsed: boolean('parsed').notNull(),
    /**
     * `fields.src_ip` when it is an IP address, as `inet`: a column rather than an expression
     * index because PostgreSQL cannot cast text that is not an address to `inet` without failing
     * the whole query, and only `inet` gives CIDR searches (`<<=`, which a B-tree serves as a
     * range) and one spelling per address (`2001:db8::1` and `2001:0db8:0::1` are equal).
     */
    srcIp: inet('src_ip'),
  },
  // Read newest first a page at a time (keyset on time and id): a B-tree on both gives that order,
  // so a page stops after its rows, where BRIN (as the DNS query log has) made every page sort the
  // whole window. Measured on PGlite, 100,000 events: the latest page 12-20 ms instead of 66-122,
  // a free word 8-15 ms instead of 300-550 (and growing with the table); appending cost the same
  // within the noise (rows here are wide, the index a small part of each write). The user is
  // searched through an expression index on the lowered field (searches ignore case, as Sigma's
  // matching does), so it is not kept twice.
  (t) => [
    index('watch_events_at_id_idx').on(t.at, t.id),
    index('watch_events_src_ip_idx').on(t.srcIp),
    index('watch_events_user_idx').on(sql`lower(${t.fields} ->> 'user')`),
  ],
);

/**
 * What the rules found: one row per hit (duplicates merged into it, counted), with the stored
 * events that made it and the alert it raised. A retro-hunt's hits carry the hunt's id; live hits
 * have none.
 */
export const watchHits = pgTable(
  'watch_hits',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** The hit's time: the event's, or a correlation's last event's. */
    at: ts('at').notNull(),
    ruleId: text('rule_id').notNull(),
    ruleTitle: text('rule_title').notNull(),
    level: text('level'),
    kind: text('kind', { enum: ['detection', 'correlation'] }).notNull(),
    ruleFile: text('rule_file').notNull(),
    /** A correlation's group-by fields and their values. */
    group: jsonb('group').$type<Record<string, unknown>>(),
    /** The count a correlation was judged on. */
    value: doublePrecision('value'),
    /** Hits merged into this one as duplicates, itself included. */
    count: integer('count').notNull().default(1),
    /** Ids of `watch_events` rows; they may be purged before the hit is (events are kept less long). */
    eventIds: bigint('event_ids', { mode: 'number' }).array().notNull(),
    // No foreign key: alerts belong to the alert stream, which may prune them on its own terms.
    alertId: uuid('alert_id'),
    /** The retro-hunt that found it; null for a hit of the live service. */
    hunt: text('hunt'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    // Listed newest first a page at a time, as the events.
    index('watch_hits_at_id_idx').on(t.at, t.id),
    index('watch_hits_rule_idx').on(t.ruleId, t.at),
    index('watch_hits_hunt_idx')
      .on(t.hunt, t.at)
      .where(sql`${t.hunt} is not null`),
  ],
);
