/**
 * Rempart's configuration, parsed once at start-up from environment variables.
 * Every variable has a default, so `rempart serve` runs with no configuration.
 *
 * @example
 *   const result = parseConfig({ REMPART_PORT: '9090' });
 *   if (result.ok) console.log(result.config.port); // 9090
 */
import { z } from 'zod';
import { watchLogFormats, type WatchLogFormat } from './serverwatch.schema.js';
import { defaultLeakcheckLanguages, LeakcheckLanguage, leakcheckLanguages } from './leakcheck.schema.js';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'yes'].includes(v));

export const EnvSchema = z.object({
  REMPART_PORT: port.default(8080),
  /** Address to listen on; loopback unless TLS is on, since plain HTTP must not face a network. */
  REMPART_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost')]).optional(),
  REMPART_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  REMPART_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** `off` (default), `self-signed` (generated into the data directory), or `files` with cert and key. */
  REMPART_TLS: z.enum(['off', 'self-signed', 'files']).optional(),
  REMPART_TLS_CERT: z.string().min(1).optional(),
  REMPART_TLS_KEY: z.string().min(1).optional(),
  REMPART_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REMPART_TRUST_PROXY: bool.default(false),
  /** 32 random bytes, base64: the master key shared by every server process (else a file in the data directory). */
  REMPART_SECRET_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'must be 32 bytes, base64-encoded')
    .optional(),
  /** The address the embedded SFU binds its media sockets to and announces in ICE candidates. */
  REMPART_MEDIA_IP: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** UDP port range for media, `min-max`, two ports per participant (default: any free port). */
  REMPART_MEDIA_PORTS: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'must be min-max, e.g. 40000-40100')
    .optional(),
  /** TURN servers given to browsers, comma-separated `turn:` / `turns:` URLs (coturn). */
  REMPART_TURN_URLS: z.string().optional(),
  /** coturn's `static-auth-secret`: browsers get time-limited TURN credentials (TURN REST API). */
  REMPART_TURN_SECRET: z.string().min(16).optional(),
  /** Which SFU forwards meetings' media: `embedded` (in the server process) or `janus` (Janus nodes). */
  REMPART_MEDIA_ENGINE: z.enum(['embedded', 'janus']).default('embedded'),
  /** The Janus nodes' HTTP APIs, comma-separated, e.g. `http://10.0.0.5:8088/janus` (private addresses). */
  REMPART_JANUS_NODES: z.string().optional(),
  /** Janus's `api_secret` (janus.jcfg), the same on every node. */
  REMPART_JANUS_API_SECRET: z.string().min(16).max(200).optional(),
  /** The VideoRoom plugin's `admin_key` (janus.plugin.videoroom.jcfg): only Rempart creates rooms. */
  REMPART_JANUS_ADMIN_KEY: z.string().min(16).max(200).optional(),
  /**
   * How recent an MFA check must be to join a restricted or secret meeting, in seconds.
   * Ten minutes at most; an institution may ask for less.
   */
  REMPART_MEETING_STEP_UP_SECONDS: z.coerce.number().int().min(60).max(600).default(600),
  /**
   * How long a participant whose connection dropped (network, restart of the server) keeps
   * their place, media included, to come back without admission, in seconds.
   */
  REMPART_MEETING_RESUME_GRACE_SECONDS: z.coerce.number().int().min(1).max(55).default(20),
  /** OCR threads of the leak check (each reads one image at a time); started at the first check. */
  REMPART_LEAKCHECK_WORKERS: z.coerce.number().int().min(1).max(32).default(2),
  /**
   * The languages the leak check's OCR reads, joined by `+`, the first leading (`fra`, `eng`,
   * `nld`). The French model by default: it reads the letters of the three languages (see
   * `defaultLeakcheckLanguages`); `fra+eng+nld` adds the English and Dutch models for about half
   * as much time again (see the README's performance table).
   */
  REMPART_LEAKCHECK_LANGUAGES: z
    .string()
    .default(defaultLeakcheckLanguages.join('+'))
    .transform((v, ctx) => {
      const codes = v.split('+').map((c) => c.trim());
      const wrong = codes.filter((c) => !LeakcheckLanguage.safeParse(c).success);
      if (wrong.length > 0 || new Set(codes).size !== codes.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `expected distinct languages among ${leakcheckLanguages.join(', ')} joined by "+", got "${v}"`,
        });
        return z.NEVER;
      }
      return codes as LeakcheckLanguage[];
    }),
  /**
   * The network guard's DNS resolver over UDP and TCP, `address:port` (e.g. `0.0.0.0:53`, or
   * `127.0.0.1:5353` without root); off when unset. DNS over HTTPS (`/dns-query`) is always on.
   */
  REMPART_DNS_LISTEN: z
    .string()
    .regex(/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/, 'must be address:port, e.g. 127.0.0.1:5353')
    .optional(),
  /** Upstream resolvers, comma-separated `host[:port]`, tried in order; /etc/resolv.conf's when unset. */
  REMPART_DNS_UPSTREAMS: z.string().optional(),
  /** The address blocked names resolve to in a group whose block mode is `blockpage`. */
  REMPART_DNS_BLOCKPAGE_IP: z.ipv4().optional(),
  REMPART_DNS_BLOCKPAGE_IP6: z.ipv6().optional(),
  /** Days the DNS query log is kept; 0 turns it off. */
  REMPART_DNS_LOG_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
  /** Queries per second one client may send (bursts of twice that); 0 turns the limit off. */
  REMPART_DNS_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(100),
  /** Clients never rate-limited, comma-separated CIDR ranges (loopback by default). */
  REMPART_DNS_TRUSTED: z.string().default('127.0.0.0/8,::1/128'),
  /**
   * The secret DNS resolver replicas (`rempart dns serve --replica-of URL`) present to the
   * platform, and the platform expects: 32 characters at least. Unset, the platform serves no
   * replica.
   */
  REMPART_DNS_REPLICA_TOKEN: z
    .string()
    .min(32, 'must be 32 characters at least (e.g. `openssl rand -base64 32`)')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  /**
   * A folder of STIX 2 bundles (`*.stix2`, `*.json`) imported into the spyware indicator store at
   * start and whenever a bundle there is added or changed; `<data dir>/iocs` by default.
   */
  REMPART_SPYWARE_IOCS_DIR: z.string().min(1).optional(),
  /** Days a scan's raw extracts (the uploaded artifact, the timeline) are kept; findings stay. */
  REMPART_SPYWARE_RAW_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** The largest artifact a scan accepts, in megabytes (an iOS backup's archive). */
  REMPART_SPYWARE_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(8192),
  /**
   * The server watch's syslog receiver, UDP and TCP on one `address:port` (`0.0.0.0:514` for the
   * standard port, which needs root); off when unset.
   */
  REMPART_WATCH_SYSLOG: z.string().optional(),
  /** Syslog over TLS (RFC 5425) on `address:port`, with REMPART_TLS_CERT and REMPART_TLS_KEY. */
  REMPART_WATCH_SYSLOG_TLS: z.string().optional(),
  /**
   * Log files the server watch follows, comma-separated, each `path` or `path=format` (`auto`,
   * `syslog`, `postfix`, `dovecot`, `sshd`, `iis`, `combined`, `audit`, `windows`, `jsonl`).
   */
  REMPART_WATCH_FILES: z.string().optional(),
  /** Folders of Sigma rules run besides the shipped ones, comma-separated. */
  REMPART_WATCH_RULES: z.string().optional(),
  /** Whether the SigmaHQ rules that ship with Rempart run too (the mail server rules always do). */
  REMPART_WATCH_SIGMAHQ: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Days received events are kept for searching and retro-hunts. */
  REMPART_WATCH_EVENT_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days rule hits are kept. */
  REMPART_WATCH_HIT_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /**
   * The token the institution's mail servers (Dovecot's passdb, and Postfix through it) present
   * to `POST /api/mail/auth` to check a login (Authorization: Bearer); the endpoint is closed when
   * unset. `rempart mail dovecot-config` writes it into the configuration it generates.
   */
  REMPART_MAIL_GATEWAY_TOKEN: z
    .string()
    .min(32, 'must be 32 characters at least (e.g. `openssl rand -base64 32`)')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  /**
   * The token log shippers present to `POST /api/watch/ingest` (Authorization: Bearer); the
   * endpoint is closed when unset.
   */
  REMPART_WATCH_INGEST_TOKEN: z
    .string()
    .min(32, 'must be 32 characters at least (e.g. `openssl rand -base64 32`)')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  /**
   * How a rule's hit blocks its source address: `dry-run` (the command is recorded, not run),
   * `nftables` (an element of the set `inet rempart blocked4`/`blocked6`), `fail2ban`
   * (`fail2ban-client set <jail> banip`), or `off`.
   */
  REMPART_WATCH_BLOCK: z.enum(['off', 'dry-run', 'nftables', 'fail2ban']).default('dry-run'),
  /** How long a block lasts, in minutes. */
  REMPART_WATCH_BLOCK_MINUTES: z.coerce.number().int().min(1).max(525_600).default(60),
  /** The lowest rule level that blocks: `low`, `medium`, `high` or `critical`. */
  REMPART_WATCH_BLOCK_LEVEL: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
  /** Addresses never blocked (CIDRs, comma-separated), besides loopback and the server's own. */
  REMPART_WATCH_ALLOW: z.string().default(''),
  /** The fail2ban jail banned into. */
  REMPART_WATCH_FAIL2BAN_JAIL: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('rempart'),
  /** A URL each alert of the server watch is posted to, signed with REMPART_WATCH_WEBHOOK_SECRET. */
  REMPART_WATCH_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  REMPART_WATCH_WEBHOOK_SECRET: z.string().min(16).max(200).optional(),
  /** Outgoing mail (guest codes): `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`. */
  REMPART_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The sender of Rempart's mail; `Rempart <no-reply@…>` on the public host by default. */
  REMPART_MAIL_FROM: z.string().min(3).max(200).optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  tls: { mode: 'off' } | { mode: 'self-signed' } | { mode: 'files'; certFile: string; keyFile: string };
  logLevel: z.infer<typeof EnvSchema>['REMPART_LOG_LEVEL'];
  trustProxy: boolean;
  secretKey: string | undefined;
  media: {
    /** IP for media sockets and ICE candidates; loopback when the server listens on loopback. */
    ip: string | undefined;
    ports: { min: number; max: number } | undefined;
    turn: { urls: string[]; secret: string } | undefined;
    engine: 'embedded' | 'janus';
    /** Set exactly when the engine is `janus`. */
    janus: { nodes: string[]; apiSecret: string; adminKey: string } | undefined;
  };
  meetings: { stepUpSeconds: number; resumeGraceSeconds: number };
  leakcheck: { workers: number; languages: LeakcheckLanguage[] };
  dns: {
    listen: { host: string; port: number } | undefined;
    /** Undefined: the server reads /etc/resolv.conf (core does no I/O). */
    upstreams: { host: string; port: number }[] | undefined;
    blockPage: { v4?: string; v6?: string };
    logDays: number;
    rateLimit: number;
    trusted: string[];
    /** The secret shared with DNS resolver replicas; undefined when the platform serves none. */
    replicaToken: string | undefined;
  };
  spyware: {
    /** The watched folder of STIX 2 bundles. */
    iocsDir: string;
    /** Days raw extracts are kept; 0: deleted as soon as the scan ends. */
    rawDays: number;
    uploadMaxBytes: number;
  };
  /** Outgoing mail; undefined when no SMTP server is configured (guests cannot be invited then). */
  mail: { smtpUrl: string; from: string } | undefined;
  /** The secret mail servers present to check logins; undefined: no mail server may ask. */
  mailGatewayToken: string | undefined;
  watch: WatchConfig;
}

/** The server watch: where logs come in, which rules run, how long things are kept, responses. */
export interface WatchConfig {
  syslog: { host: string; port: number } | undefined;
  syslogTls: { host: string; port: number } | undefined;
  /** Files followed, each read as one format or told from its lines (`auto`). */
  files: { path: string; format: WatchLogFormat | 'auto' }[];
  rulesDirs: string[];
  sigmaHq: boolean;
  eventDays: number;
  hitDays: number;
  ingestToken: string | undefined;
  block: {
    mode: 'off' | 'dry-run' | 'nftables' | 'fail2ban';
    minutes: number;
    level: 'low' | 'medium' | 'high' | 'critical';
    allow: string[];
    jail: string;
  };
  webhook: { url: string; secret: string } | undefined;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Parses environment variables into a `Config`, naming every bad variable at once. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`),
    };
  }
  const e = parsed.data;
  const errors: string[] = [];
  const mode = e.REMPART_TLS ?? (e.REMPART_TLS_CERT || e.REMPART_TLS_KEY ? 'files' : 'off');
  let tls: Config['tls'] = { mode: 'off' };
  if (mode === 'files') {
    if (!e.REMPART_TLS_CERT) errors.push('REMPART_TLS_CERT: required when TLS uses files');
    if (!e.REMPART_TLS_KEY) errors.push('REMPART_TLS_KEY: required when TLS uses files');
    tls = { mode: 'files', certFile: e.REMPART_TLS_CERT ?? '', keyFile: e.REMPART_TLS_KEY ?? '' };
  } else if (mode === 'self-signed') {
    tls = { mode: 'self-signed' };
  }
  let ports: Config['media']['ports'];
  if (e.REMPART_MEDIA_PORTS) {
    const [min = 0, max = 0] = e.REMPART_MEDIA_PORTS.split('-').map(Number);
    if (![min, max].every((p) => p >= 1 && p <= 65535))
      errors.push('REMPART_MEDIA_PORTS: ports must be within 1-65535');
    else if (min >= max)
      // The embedded SFU gives each participant two peer connections, each on its own UDP port.
      errors.push(
        'REMPART_MEDIA_PORTS: min must be less than max; each participant takes two ports, ' +
          'so 40000-40199 serves 100 participants',
      );
    ports = { min, max };
  }
  const turnUrls = (e.REMPART_TURN_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (turnUrls.some((u) => !/^turns?:[^\s]+$/.test(u)))
    errors.push('REMPART_TURN_URLS: each URL must start with turn: or turns:');
  if (turnUrls.length > 0 && !e.REMPART_TURN_SECRET)
    errors.push('REMPART_TURN_SECRET: required with REMPART_TURN_URLS');
  const janus = janusConfig(e, errors);
  let dnsListen: Config['dns']['listen'];
  if (e.REMPART_DNS_LISTEN) {
    const split = hostPort(e.REMPART_DNS_LISTEN, 53, { anyPort: true });
    if (!split) errors.push('REMPART_DNS_LISTEN: must be address:port with a port within 0-65535');
    else dnsListen = split;
  }
  let upstreams: Config['dns']['upstreams'];
  if (e.REMPART_DNS_UPSTREAMS !== undefined && e.REMPART_DNS_UPSTREAMS.trim() !== '') {
    upstreams = [];
    for (const item of e.REMPART_DNS_UPSTREAMS.split(',').map((u) => u.trim())) {
      const split = hostPort(item, 53);
      if (split) upstreams.push(split);
      else errors.push(`REMPART_DNS_UPSTREAMS: ${item} is not host[:port]`);
    }
  }
  const trusted = e.REMPART_DNS_TRUSTED.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const cidr of trusted) {
    if (!/^[0-9a-fA-F:.]+(?:\/\d{1,3})?$/.test(cidr))
      errors.push(`REMPART_DNS_TRUSTED: ${cidr} is not a range`);
  }
  const watch = watchConfig(e, tls, errors);
  if (errors.length > 0) return { ok: false, errors };
  const scheme = tls.mode === 'off' ? 'http' : 'https';
  const host = e.REMPART_HOST ?? (tls.mode === 'off' ? '127.0.0.1' : '0.0.0.0');
  const publicUrl = (e.REMPART_PUBLIC_URL ?? `${scheme}://localhost:${e.REMPART_PORT}`).replace(/\/+$/, '');
  return {
    ok: true,
    config: {
      port: e.REMPART_PORT,
      host,
      dataDir: e.REMPART_DATA_DIR,
      databaseUrl: e.DATABASE_URL,
      publicUrl,
      tls,
      logLevel: e.REMPART_LOG_LEVEL,
      trustProxy: e.REMPART_TRUST_PROXY,
      secretKey: e.REMPART_SECRET_KEY,
      meetings: {
        stepUpSeconds: e.REMPART_MEETING_STEP_UP_SECONDS,
        resumeGraceSeconds: e.REMPART_MEETING_RESUME_GRACE_SECONDS,
      },
      leakcheck: { workers: e.REMPART_LEAKCHECK_WORKERS, languages: e.REMPART_LEAKCHECK_LANGUAGES },
      dns: {
        listen: dnsListen,
        upstreams,
        blockPage: {
          ...(e.REMPART_DNS_BLOCKPAGE_IP ? { v4: e.REMPART_DNS_BLOCKPAGE_IP } : {}),
          ...(e.REMPART_DNS_BLOCKPAGE_IP6 ? { v6: e.REMPART_DNS_BLOCKPAGE_IP6 } : {}),
        },
        logDays: e.REMPART_DNS_LOG_DAYS,
        rateLimit: e.REMPART_DNS_RATE_LIMIT,
        trusted,
        replicaToken: e.REMPART_DNS_REPLICA_TOKEN,
      },
      spyware: {
        iocsDir: e.REMPART_SPYWARE_IOCS_DIR ?? `${e.REMPART_DATA_DIR.replace(/\/+$/, '')}/iocs`,
        rawDays: e.REMPART_SPYWARE_RAW_DAYS,
        uploadMaxBytes: e.REMPART_SPYWARE_UPLOAD_MAX_MB * 1024 * 1024,
      },
      watch,
      mailGatewayToken: e.REMPART_MAIL_GATEWAY_TOKEN,
      mail: e.REMPART_SMTP_URL
        ? {
            smtpUrl: e.REMPART_SMTP_URL,
            from: e.REMPART_MAIL_FROM ?? `Rempart <no-reply@${hostOf(publicUrl)}>`,
          }
        : undefined,
      media: {
        ip: e.REMPART_MEDIA_IP ?? (host === '127.0.0.1' || host === 'localhost' ? '127.0.0.1' : undefined),
        ports,
        turn:
          turnUrls.length > 0 && e.REMPART_TURN_SECRET
            ? { urls: turnUrls, secret: e.REMPART_TURN_SECRET }
            : undefined,
        engine: e.REMPART_MEDIA_ENGINE,
        janus,
      },
    },
  };
}

/**
 * `host:port`, `[v6]:port` or a lone host (then `defaultPort`), the port within 1-65535
 * (0-65535 with `anyPort`).
 *
 * @example hostPort('[::1]:5353', 53) // { host: '::1', port: 5353 }
 */
export function hostPort(
  text: string,
  defaultPort: number,
  options: { anyPort?: boolean } = {},
): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  // Port 0 lets the system choose a free one: for a listening address only.
  if (port < (options.anyPort ? 0 : 1) || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** The host part of an http(s) URL already validated by the schema (core has no URL class). */
function hostOf(url: string): string {
  const rest = url.replace(/^https?:\/\//, '');
  if (rest.startsWith('[')) return rest.slice(0, rest.indexOf(']') + 1);
  return rest.split(/[:/?#]/)[0] ?? rest;
}

/** The Janus engine's settings when it is chosen; problems are added to `errors`. */
function janusConfig(e: z.infer<typeof EnvSchema>, errors: string[]): Config['media']['janus'] {
  if (e.REMPART_MEDIA_ENGINE !== 'janus') return undefined;
  const nodes = (e.REMPART_JANUS_NODES ?? '')
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter((url) => url !== '');
  if (nodes.length === 0)
    errors.push(
      'REMPART_JANUS_NODES: required with REMPART_MEDIA_ENGINE=janus (e.g. http://10.0.0.5:8088/janus)',
    );
  for (const url of nodes)
    if (!z.url({ protocol: /^https?$/ }).safeParse(url).success)
      errors.push(`REMPART_JANUS_NODES: ${url} is not an http(s) URL`);
  if (!e.REMPART_JANUS_API_SECRET)
    errors.push("REMPART_JANUS_API_SECRET: required with REMPART_MEDIA_ENGINE=janus (Janus's api_secret)");
  if (!e.REMPART_JANUS_ADMIN_KEY)
    errors.push(
      "REMPART_JANUS_ADMIN_KEY: required with REMPART_MEDIA_ENGINE=janus (the VideoRoom's admin_key)",
    );
  return { nodes, apiSecret: e.REMPART_JANUS_API_SECRET ?? '', adminKey: e.REMPART_JANUS_ADMIN_KEY ?? '' };
}

/** The server watch's part of the configuration; problems are added to `errors`. */
function watchConfig(e: z.infer<typeof EnvSchema>, tls: Config['tls'], errors: string[]): WatchConfig {
  const listen = (name: 'REMPART_WATCH_SYSLOG' | 'REMPART_WATCH_SYSLOG_TLS', port: number) => {
    const value = e[name];
    if (value === undefined || value.trim() === '') return undefined;
    const split = hostPort(value.trim(), port, { anyPort: true });
    if (!split) errors.push(`${name}: must be address:port with a port within 0-65535`);
    return split ?? undefined;
  };
  const syslog = listen('REMPART_WATCH_SYSLOG', 514);
  const syslogTls = listen('REMPART_WATCH_SYSLOG_TLS', 6514);
  if (syslogTls && tls.mode !== 'files')
    errors.push('REMPART_WATCH_SYSLOG_TLS: needs REMPART_TLS_CERT and REMPART_TLS_KEY');
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const files = list(e.REMPART_WATCH_FILES).map((item) => {
    const at = item.lastIndexOf('=');
    return at === -1
      ? { path: item, format: 'auto' }
      : { path: item.slice(0, at), format: item.slice(at + 1) };
  });
  for (const file of files)
    if (file.path === '' || !/^[a-z0-9]+$/.test(file.format))
      errors.push(`REMPART_WATCH_FILES: ${file.path}=${file.format} is not path[=format]`);
    else if (file.format !== 'auto' && !(watchLogFormats as readonly string[]).includes(file.format))
      errors.push(
        `REMPART_WATCH_FILES: ${file.path}: format ${file.format} is none of auto, ${watchLogFormats.join(', ')}`,
      );
  const allow = list(e.REMPART_WATCH_ALLOW);
  for (const cidr of allow)
    if (!/^[0-9a-fA-F:.]+(?:\/\d{1,3})?$/.test(cidr))
      errors.push(`REMPART_WATCH_ALLOW: ${cidr} is not a range`);
  if (e.REMPART_WATCH_WEBHOOK_SECRET && !e.REMPART_WATCH_WEBHOOK_URL)
    errors.push('REMPART_WATCH_WEBHOOK_SECRET: set REMPART_WATCH_WEBHOOK_URL too');
  if (e.REMPART_WATCH_WEBHOOK_URL && !e.REMPART_WATCH_WEBHOOK_SECRET)
    errors.push(
      'REMPART_WATCH_WEBHOOK_URL: needs REMPART_WATCH_WEBHOOK_SECRET, the key its posts are signed with',
    );
  return {
    syslog,
    syslogTls,
    // Each format was checked above: with a bad one, the configuration is refused.
    files: files as WatchConfig['files'],
    rulesDirs: list(e.REMPART_WATCH_RULES),
    sigmaHq: e.REMPART_WATCH_SIGMAHQ,
    eventDays: e.REMPART_WATCH_EVENT_DAYS,
    hitDays: e.REMPART_WATCH_HIT_DAYS,
    ingestToken: e.REMPART_WATCH_INGEST_TOKEN,
    block: {
      mode: e.REMPART_WATCH_BLOCK,
      minutes: e.REMPART_WATCH_BLOCK_MINUTES,
      level: e.REMPART_WATCH_BLOCK_LEVEL,
      allow,
      jail: e.REMPART_WATCH_FAIL2BAN_JAIL,
    },
    webhook:
      e.REMPART_WATCH_WEBHOOK_URL && e.REMPART_WATCH_WEBHOOK_SECRET
        ? { url: e.REMPART_WATCH_WEBHOOK_URL, secret: e.REMPART_WATCH_WEBHOOK_SECRET }
        : undefined,
  };
}
