/**
 * Composition root: opens the database, builds every service with its collaborators,
 * and closes them in order. The HTTP app, the local admin socket and the CLI all use it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '@rempart/core';
import { AlertRepository } from './alerts/alert.repository.js';
import { AlertService } from './alerts/alert.service.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuditService } from './audit/audit.service.js';
import { systemClock, type Clock } from './clock.js';
import { openDatabase, type Database, type DatabaseTarget } from './db/client.js';
import { IdentityRepository } from './identity/identity.repository.js';
import { IdentityService } from './identity/identity.service.js';
import { MailAccessRepository } from './identity/mail/mail-access.repository.js';
import { MailAccessService } from './identity/mail/mail-access.service.js';
import { OidcRepository } from './identity/oidc/oidc.repository.js';
import { OidcService } from './identity/oidc/oidc.service.js';
import { cookieName } from './http/auth.js';
import { argon2Hasher, type PasswordHasher } from './identity/password.js';
import { KeyRing } from './identity/secrets.js';
import type { ThrottleKind, ThrottlePolicy } from './identity/throttle.js';
import { relyingPartyFor } from './identity/webauthn.js';
import { LeakCheckService } from './leakcheck/leakcheck.service.js';
import { createLogger, type Logger } from './logger.js';
import type { MediaEngine } from './media/engine.js';
import { createMediaEngine } from './media/create-engine.js';
import { SmtpMailer, type Mailer } from './mail/mailer.js';
import { GuestService } from './meetings/guests.js';
import { MeetingsRepository } from './meetings/meetings.repository.js';
import { MeetingsService } from './meetings/meetings.service.js';
import { PresenceJournal } from './meetings/presences.js';
import { PresencesRepository } from './meetings/presences.repository.js';
import { ResumeTokens } from './meetings/resume.js';
import { LiveMeetings } from './meetings/signalling.js';
import { NetguardRepository } from './netguard/netguard.repository.js';
import { NetguardService } from './netguard/netguard.service.js';
import { systemResolvers } from './netguard/resolv-conf.js';
import { IndicatorStoreRepository } from './spyware/store/indicator-store.repository.js';
import { IndicatorStore } from './spyware/store/indicator-store.service.js';
import { WatchedFolder } from './spyware/store/watched-folder.js';
import { FleetFiles } from './spyware/fleet/files.js';
import { FleetRepository } from './spyware/fleet/fleet.repository.js';
import { FleetService } from './spyware/fleet/fleet.service.js';
import { WatchRepository } from './serverwatch/store/index.js';
import { WatchService } from './serverwatch/watch.service.js';
import { loadTls } from './tls.js';

/** The spyware check's services. */
export interface SpywarePlatform {
  /** The STIX indicator sets: shipped, imported, watched folder; retro-hunts. */
  store: IndicatorStore;
  /** Devices, consent, uploaded artifacts and their scans; retention of the raw extracts. */
  fleet: FleetService;
}

export interface Platform {
  config: Config;
  database: Database;
  log: Logger;
  clock: Clock;
  identity: IdentityService;
  identityRepo: IdentityRepository;
  /** Rempart as OpenID Connect provider for the institution's other web applications. */
  oidc: OidcService;
  /** Per-device mail passwords and the mail servers' login checks. */
  mailAccess: MailAccessService;
  audit: AuditService;
  alerts: AlertService;
  meetings: MeetingsService;
  live: LiveMeetings;
  media: MediaEngine;
  leakcheck: LeakCheckService;
  netguard: NetguardService;
  spyware: SpywarePlatform;
  /** The server watch: log receivers, Sigma rules, hits, responses, stored events. */
  watch: WatchService;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /** Overrides the database chosen by the config (tests pass an in-memory PGlite). */
  database?: DatabaseTarget;
  clock?: Clock;
  log?: Logger;
  hasher?: PasswordHasher;
  masterKey?: Buffer;
  policies?: Partial<Record<ThrottleKind, ThrottlePolicy>>;
  /** The SFU; the embedded engine by default. */
  media?: MediaEngine;
  mailer?: Mailer;
  /** Lists read from files and added to every group of the network guard, for this run only. */
  netguardLists?: { path: string; action: 'block' | 'allow' }[];
  /**
   * Whether the folder of indicator bundles (config.spyware.iocsDir) is imported and watched;
   * true by default. A one-off command (`rempart spyware import`) leaves it alone.
   */
  watchIndicatorFolder?: boolean;
  /**
   * Whether the server watch opens its receivers and responders (syslog, followed files,
   * blocking); true by default. A one-off command (`rempart watch search`) only reads its data.
   */
  watchReceivers?: boolean;
  /** TLS files for the watch's syslog over TLS (the server's own certificate, read by `serve`). */
  watchTls?: { key: string; cert: string };
}

export function databaseTarget(config: Config): DatabaseTarget {
  return config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl }
    : { kind: 'pglite', dataDir: join(resolve(config.dataDir), 'pgdata') };
}

/** The master key: REMPART_SECRET_KEY, else `secret.key` in the data directory (created once, mode 0600). */
export function loadMasterKey(config: Config): Buffer {
  if (config.secretKey) return Buffer.from(config.secretKey, 'base64');
  const dir = resolve(config.dataDir);
  const file = join(dir, 'secret.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  }
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

export async function openPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const keys = new KeyRing(options.masterKey ?? loadMasterKey(config));
  const database = await openDatabase(options.database ?? databaseTarget(config));
  const audit = new AuditService(new AuditRepository(database.db, database.kind === 'postgres'), clock);
  const alerts = new AlertService(new AlertRepository(database.db), clock);
  const identityRepo = new IdentityRepository(database.db);
  const identity = new IdentityService({
    repo: identityRepo,
    audit,
    alerts,
    keys,
    hasher: options.hasher ?? argon2Hasher,
    clock,
    publicUrl: config.publicUrl,
    rp: relyingPartyFor(config.publicUrl),
    log: log.child({ subsystem: 'identity' }),
    ...(options.policies ? { policies: options.policies } : {}),
  });
  const oidc = new OidcService({
    repo: new OidcRepository(database.db),
    identity,
    identityRepo,
    audit,
    keys,
    clock,
    log: log.child({ subsystem: 'oidc' }),
    issuer: `${config.publicUrl}/oidc`,
    sessionCookie: cookieName(config.tls.mode !== 'off'),
    proxy: config.trustProxy,
  });
  const mailAccess = new MailAccessService({
    repo: new MailAccessRepository(database.db),
    identityRepo,
    identity,
    audit,
    alerts,
    keys,
    clock,
    log: log.child({ subsystem: 'mail-access' }),
    gatewayToken: config.mailGatewayToken,
  });
  mailAccess.useTokenFinder((token) => oidc.findAccessToken(token));
  const mailer =
    options.mailer ?? (config.mail ? new SmtpMailer(config.mail.smtpUrl, config.mail.from) : undefined);
  const meetings = new MeetingsService({
    repo: new MeetingsRepository(database.db),
    identity,
    audit,
    alerts,
    clock,
    publicUrl: config.publicUrl,
    log: log.child({ subsystem: 'meetings' }),
    mailConfigured: mailer !== undefined,
    stepUpSeconds: config.meetings.stepUpSeconds,
  });
  const guests = new GuestService({
    db: database.db,
    meetings,
    mailer,
    audit,
    clock,
    log: log.child({ subsystem: 'meetings' }),
  });
  const media = options.media ?? (await createMediaEngine(config.media, log.child({ subsystem: 'media' })));
  const live = new LiveMeetings({
    meetings,
    guests,
    secureCookies: config.tls.mode !== 'off',
    identity,
    engine: media,
    audit,
    clock,
    log: log.child({ subsystem: 'meetings' }),
    presences: new PresenceJournal(
      new PresencesRepository(database.db),
      clock,
      log.child({ subsystem: 'meetings' }),
    ),
    resume: new ResumeTokens(keys),
    resumeGraceMs: config.meetings.resumeGraceSeconds * 1000,
  });
  const leakcheck = new LeakCheckService({
    meetings,
    live,
    audit,
    alerts,
    mailer,
    log: log.child({ subsystem: 'leakcheck' }),
    workers: config.leakcheck.workers,
    languages: config.leakcheck.languages,
    dir: join(resolve(config.dataDir), 'ocr'),
  });
  const spywareLog = log.child({ subsystem: 'spyware' });
  const store: IndicatorStore = new IndicatorStore({
    repo: new IndicatorStoreRepository(database.db),
    audit,
    alerts,
    clock,
    log: spywareLog,
    // The network guard is built next: the store reads its log only once an import runs a retro-hunt.
    dnsLog: {
      queriedNames: (): Promise<string[]> => netguard.queriedNames(),
      queriesOf: (names) => netguard.queriesOf(names),
    },
  });
  const fleet = new FleetService({
    repo: new FleetRepository(database.db, database.copyRows),
    files: new FleetFiles(join(resolve(config.dataDir), 'spyware')),
    indicators: store,
    audit,
    alerts,
    clock,
    log: spywareLog,
    config: { rawDays: config.spyware.rawDays, uploadMaxBytes: config.spyware.uploadMaxBytes },
    agentByEmail: async (email) => identityRepo.agentByEmail(email.toLowerCase()),
    agentsByIds: async (ids) => identityRepo.agentsByIds(ids),
  });
  store.useScanRetroHunter(fleet);
  const folder = new WatchedFolder({
    dir: resolve(config.spyware.iocsDir),
    store,
    alerts,
    log: spywareLog,
  });
  const netguard: NetguardService = new NetguardService({
    repo: new NetguardRepository(database.db, database.copyRows),
    alerts,
    audit,
    clock,
    log: log.child({ subsystem: 'netguard' }),
    config: {
      ...config.dns,
      upstreams: config.dns.upstreams ?? systemResolvers(),
      dohUrl: `${config.publicUrl}/dns-query`,
      organisation: new URL(config.publicUrl).hostname,
      extraLists: options.netguardLists ?? [],
    },
    agentByEmail: async (email) => identityRepo.agentByEmail(email.toLowerCase()),
    agentEmail: async (id) => (await identityRepo.agentById(id))?.email,
    // Imported bundles' domains are blocked (and alerted) by every group with the spyware category.
    spywareDomains: store,
  });
  // Syslog over TLS presents the server's own certificate.
  const watchTls = options.watchTls ?? (config.watch.syslogTls ? await loadTls(config) : undefined);
  const watch = new WatchService({
    repo: new WatchRepository(database.db, database.copyRows),
    alerts,
    audit,
    clock,
    log: log.child({ subsystem: 'serverwatch' }),
    config: config.watch,
    ...(watchTls ? { tls: watchTls } : {}),
  });
  try {
    await oidc.start();
    await store.start();
    await fleet.start();
    await netguard.start();
    if (options.watchIndicatorFolder ?? true) await folder.start();
    await watch.start({ receivers: options.watchReceivers ?? true });
  } catch (error) {
    oidc.close();
    await watch.close();
    await folder.close();
    await store.close();
    await fleet.close();
    await netguard.close();
    await leakcheck.close();
    await live.close();
    await media.close();
    mailer?.close();
    await database.close();
    throw error;
  }
  let closed = false;
  return {
    config,
    database,
    log,
    clock,
    identity,
    identityRepo,
    oidc,
    mailAccess,
    audit,
    alerts,
    meetings,
    live,
    media,
    leakcheck,
    netguard,
    spyware: { store, fleet },
    watch,
    close: async () => {
      if (closed) return;
      closed = true;
      // The watch stores what it still holds before the database closes.
      oidc.close();
      await watch.close();
      await folder.close();
      // The store waits for its running retro-hunts, which read the fleet's scans and the DNS log.
      await store.close();
      await fleet.close();
      await netguard.close();
      await leakcheck.close();
      await live.close();
      await media.close();
      mailer?.close();
      await database.close();
    },
  };
}
