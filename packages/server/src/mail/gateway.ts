/**
 * The mail servers' side of the mail gateway: the configuration an operator installs so that Dovecot
 * (IMAP, and SASL for Postfix's submission service) asks Rempart about every login over HTTP. Pure
 * text generators; writing the files and starting the servers is the operator's part (or, in the
 * tests, test-support/mail-servers.ts's).
 *
 * What Dovecot 2.3 sends for each login, from the Lua passdb below (gateway.int.test.ts checks it
 * against Debian's real Dovecot and Postfix):
 *
 *   POST {rempartBase}/api/mail/auth
 *   Authorization: Bearer <gateway token>
 *   Content-Type: application/json
 *   Expect: 100-continue             (Dovecot's HTTP client sends it on every request with a body)
 *   {"user", "password", "service", "mechanism", "remoteIp", "localIp", "session"}
 *
 * 200 `{"user": "<canonical name>"}` accepts the login under that name; 401 and 429 refuse it as a
 * wrong password; any other answer, or none within the timeout, is a temporary failure, never a
 * success. OAUTHBEARER and XOAUTH2 (RFC 7628) reach the same passdb: Dovecot's mechanism takes the
 * user from the client's message (OAUTHBEARER's authzid `a=`, XOAUTH2's `user=`) and hands the
 * bearer token to the passdb as the password.
 *
 * @example
 *   const lua = dovecotLuaPassdb({ rempartBase: 'https://rempart.example', token });
 *   const conf = dovecotConfig({ mailUid: 5000, mailGid: 5000, tls: { certPath, keyPath } });
 *   const { mainCf, masterCf } = postfixConfig({ dovecotAuthPort: 12345 });
 */
import { isIP } from 'node:net';
import { RempartError } from '@rempart/core';
import { z } from 'zod';

/** The path, under `rempartBase`, of Rempart's mail login endpoint. */
export const MAIL_AUTH_PATH = '/api/mail/auth';

// Values written into configuration files: a closed set of characters, so that no value can end a
// line, open a quote or read as a variable (`$name` in main.cf, `%x` in dovecot.conf).
const Path = z
  .string()
  .max(1024)
  .regex(/^\/[A-Za-z0-9._+@/-]*$/, 'an absolute path of letters, digits and . _ + @ / -');
// Dovecot expands `%n`, `%d`, `%u`… in these two.
const HomeTemplate = z
  .string()
  .max(1024)
  .regex(/^\/[A-Za-z0-9._+@/%-]*$/, 'an absolute path of letters, digits and . _ + @ / % -');
const MailLocation = z
  .string()
  .max(1024)
  .regex(/^[a-z]+:[A-Za-z0-9._+@/%~:=-]+$/, 'a Dovecot mail location such as maildir:~/Maildir');
const Port = z.number().int().min(1).max(65_535);
const Address = z.string().refine((text) => isIP(text) !== 0, { message: 'an IP address' });
const LoopbackAddress = Address.refine(isLoopback, { message: 'a loopback address (127.0.0.0/8 or ::1)' });
const SystemName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a system user or group name');
const Hostname = z
  .string()
  .max(253)
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    {
      message: 'a host name',
    },
  );
const Tls = z.object({ certPath: Path, keyPath: Path });

export const DovecotOptions = z
  .object({
    /** Where IMAP listens. Without `tls`, only a loopback address. */
    listenAddress: Address.default('127.0.0.1'),
    imapPort: Port.default(143),
    /**
     * The authentication service Postfix's SASL talks to (`smtpd_sasl_path = inet:…`). It tells
     * whether a password is right to whoever connects: loopback only.
     */
    authAddress: LoopbackAddress.default('127.0.0.1'),
    authPort: Port.default(12345),
    baseDir: Path.default('/run/dovecot'),
    stateDir: Path.default('/var/lib/dovecot'),
    logPath: Path.default('/var/log/dovecot.log'),
    /** The file `dovecotLuaPassdb`'s script is installed as. */
    luaPassdbPath: Path.default('/etc/dovecot/rempart-passdb.lua'),
    mailLocation: MailLocation.default('maildir:~/Maildir'),
    /** The one system user and group every mailbox belongs to (Dovecot refuses root). */
    mailUid: z.number().int().min(1).max(4_294_967_294),
    mailGid: z.number().int().min(1).max(4_294_967_294),
    homeTemplate: HomeTemplate.default('/var/vmail/%d/%n'),
    /** imap-login runs as this unprivileged user; Dovecot refuses root for it. */
    loginUser: SystemName.default('dovenull'),
    /** Dovecot's own processes, the authentication ones included, run as this user. */
    internalUser: SystemName.default('dovecot'),
    /** IMAP with STARTTLS, required before any login. Without it Dovecot listens on loopback only. */
    tls: Tls.optional(),
    /** The CA certificates Dovecot's HTTP client checks an https:// Rempart against. */
    clientCaDir: Path.default('/etc/ssl/certs'),
    /** Dovecot's pause before it answers a failed login. */
    authFailureDelaySeconds: z.number().int().min(0).max(60).default(2),
    /**
     * Dovecot's own slowing of addresses with failed logins (anvil's auth penalty: up to 15 s per
     * login, on every login from the address). Rempart throttles too (429); the tests turn it off.
     */
    authPenalty: z.boolean().default(true),
  })
  .refine((options) => options.tls !== undefined || isLoopback(options.listenAddress), {
    message: 'IMAP without TLS listens on a loopback address only',
    path: ['listenAddress'],
  });
export type DovecotOptions = z.input<typeof DovecotOptions>;

export const LuaPassdbOptions = z.object({
  /** Rempart's address as the mail server reaches it, a path prefix allowed: `https://rempart.example`. */
  rempartBase: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    .refine((text) => !/[?#]/.test(text), { message: 'a URL without a query or fragment' }),
  /** The gateway token Rempart expects in `Authorization: Bearer`. */
  token: z
    .string()
    .min(16, 'at least 16 characters')
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only'),
  /** One login's limit, connection and answer included (Dovecot's `request_absolute_timeout_msecs`). */
  timeoutMs: z.number().int().min(100).max(30_000).default(2000),
});
export type LuaPassdbOptions = z.input<typeof LuaPassdbOptions>;

export const PostfixOptions = z.object({
  /** The submission service's address: loopback (`inet_interfaces = loopback-only`). */
  address: LoopbackAddress.default('127.0.0.1'),
  port: Port.default(587),
  /** Dovecot's authentication listener (`DovecotOptions.authAddress`, `authPort`). */
  dovecotAuthAddress: LoopbackAddress.default('127.0.0.1'),
  dovecotAuthPort: Port.default(12345),
  queueDirectory: Path.default('/var/spool/postfix-rempart'),
  dataDirectory: Path.default('/var/lib/postfix-rempart'),
  /** Postfix's own log file (`maillog_file`, through postlogd), for Rempart's server watch. */
  maillogFile: Path.default('/var/log/postfix-rempart.log'),
  hostname: Hostname.default('localhost'),
  mailOwner: SystemName.default('postfix'),
  setgidGroup: SystemName.default('postdrop'),
  /** STARTTLS, required before AUTH. */
  tls: Tls.optional(),
});
export type PostfixOptions = z.input<typeof PostfixOptions>;

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw RempartError.validation(`Invalid ${what} settings: ${names.join('; ')}.`, {
      issues: parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
    });
  }
  return parsed.data;
}

/** 127.0.0.0/8 or ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  return isIP(address) === 6 && /^(?:0{0,4}:){2,7}0{0,3}1$|^::1$/.test(address);
}

/** `host:port`, with IPv6 addresses in brackets, as Postfix writes endpoints. */
function endpoint(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * A complete dovecot.conf: IMAP on `listenAddress:imapPort`, an authentication listener for Postfix,
 * every password checked by the Lua passdb at `luaPassdbPath`, every mailbox owned by one user.
 * Throws a `validation_failed` error naming every bad option.
 */
export function dovecotConfig(input: DovecotOptions): string {
  const o = parse(DovecotOptions, input, 'Dovecot');
  const lines = [
    '# Dovecot for the Rempart mail gateway, generated by Rempart: regenerate it rather than edit it.',
    '# Every IMAP login, and every SASL login Postfix passes on, is checked by Rempart over HTTP',
    '# through the Lua passdb; Dovecot stores no password.',
    'protocols = imap',
    `listen = ${o.listenAddress}`,
    `base_dir = ${o.baseDir}`,
    `state_dir = ${o.stateDir}`,
    `log_path = ${o.logPath}`,
    '',
    "# Dovecot's usual `imap-login: Login: user=<…>` and `imap-login: … (auth failed, …)` lines, and the",
    "# passdb's reason for each failure, for Rempart's server watch; never a password.",
    'auth_verbose = yes',
    'auth_verbose_passwords = no',
    '',
    `default_login_user = ${o.loginUser}`,
    `default_internal_user = ${o.internalUser}`,
    `first_valid_uid = ${o.mailUid}`,
    `last_valid_uid = ${o.mailUid}`,
    `first_valid_gid = ${o.mailGid}`,
    `last_valid_gid = ${o.mailGid}`,
    `mail_location = ${o.mailLocation}`,
    '',
    '# OAUTHBEARER and XOAUTH2 hand the bearer token to the passdb as the password (RFC 7628).',
    'auth_mechanisms = plain login oauthbearer xoauth2',
    "# Dovecot's default, written out: the name reaches Rempart lowercased.",
    'auth_username_format = %Lu',
    '# No cache: every login asks Rempart, so a revoked password or token stops working at once.',
    'auth_cache_size = 0',
    `auth_failure_delay = ${o.authFailureDelaySeconds} secs`,
    '',
    ...(o.tls === undefined
      ? ['# Loopback only: Dovecot counts loopback connections as secured for plaintext logins.', 'ssl = no']
      : [
          '# STARTTLS before any login (disable_plaintext_auth = yes is the default).',
          'ssl = required',
          `ssl_cert = <${o.tls.certPath}`,
          `ssl_key = <${o.tls.keyPath}`,
          'ssl_min_protocol = TLSv1.2',
        ]),
    "# What Dovecot's HTTP client checks an https:// Rempart's certificate against.",
    `ssl_client_ca_dir = ${o.clientCaDir}`,
    '',
    'passdb {',
    '  driver = lua',
    '  # In auth-worker processes: a slow answer from Rempart holds up one worker, not every login.',
    `  args = file=${o.luaPassdbPath} blocking=yes`,
    '}',
    'userdb {',
    '  driver = static',
    `  args = uid=${o.mailUid} gid=${o.mailGid} home=${o.homeTemplate}`,
    '}',
    '',
    'service imap-login {',
    '  inet_listener imap {',
    `    address = ${o.listenAddress}`,
    `    port = ${o.imapPort}`,
    '  }',
    '  inet_listener imaps {',
    '    port = 0',
    '  }',
    '}',
    'service auth {',
    "  # Postfix's SASL (smtpd_sasl_type = dovecot).",
    '  inet_listener sasl {',
    `    address = ${o.authAddress}`,
    `    port = ${o.authPort}`,
    '  }',
    '}',
    'service auth-worker {',
    '  # The passdb reads no system password file: it needs no root.',
    '  user = $default_internal_user',
    '}',
    ...(o.authPenalty
      ? []
      : [
          'service anvil {',
          "  # No auth penalty: Rempart throttles failed logins itself (Dovecot's documented switch).",
          '  unix_listener anvil-auth-penalty {',
          '    mode = 0',
          '  }',
          '}',
        ]),
    '',
  ];
  return lines.join('\n');
}

/** `text` as a Lua string literal: printable ASCII as is, every other byte as `\ddd` (Lua 5.4 §3.1). */
export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The passdb's JSON functions; they touch no Dovecot API, so gateway.int.test.ts runs them in plain Lua 5.4. */
const LUA_JSON = String.raw`-- JSON (RFC 8259) for the request and the reply: Dovecot's Lua has no JSON library.
local JSON_ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

-- A Lua string (bytes) as a JSON string: quotes, backslashes and control characters escaped
-- (RFC 8259 §7), every other byte as it is, so UTF-8 passes through as UTF-8.
local function json_string(s)
  local escaped = s:gsub('["\\\0-\31\127]', function(c)
    return JSON_ESCAPES[c] or string.format('\\u%04x', c:byte())
  end)
  return '"' .. escaped .. '"'
end

local JSON_UNESCAPES = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f',
  n = '\n', r = '\r', t = '\t' }
local JSON_LITERALS = { ['true'] = true, ['false'] = false }

-- A JSON text as Lua values (null as nil); an error on anything that is not JSON.
local function json_decode(text)
  local pos = 1
  local function fail(what)
    error('invalid JSON at byte ' .. pos .. ': ' .. what, 0)
  end
  local function skip()
    pos = text:find('[^ \t\r\n]', pos) or #text + 1
  end
  local function code_unit(at)
    local hex = text:match('^\\u(%x%x%x%x)', at)
    return hex and tonumber(hex, 16)
  end
  local function decode_string()
    local parts = {}
    pos = pos + 1
    while true do
      local at = text:find('["\\\0-\31]', pos)
      if not at then fail('unterminated string') end
      parts[#parts + 1] = text:sub(pos, at - 1)
      local c = text:sub(at, at)
      if c == '"' then
        pos = at + 1
        return table.concat(parts)
      elseif c ~= '\\' then
        fail('control character in a string')
      end
      local kind = text:sub(at + 1, at + 1)
      if kind == 'u' then
        -- A character outside the BMP is a surrogate pair (RFC 8259 §7).
        local unit = code_unit(at) or fail('bad \\u escape')
        pos = at + 6
        if unit >= 0xD800 and unit <= 0xDBFF then
          local low = code_unit(pos)
          if not low or low < 0xDC00 or low > 0xDFFF then fail('lone surrogate') end
          unit = 0x10000 + (unit - 0xD800) * 0x400 + (low - 0xDC00)
          pos = pos + 6
        elseif unit >= 0xDC00 and unit <= 0xDFFF then
          fail('lone surrogate')
        end
        parts[#parts + 1] = utf8.char(unit)
      else
        parts[#parts + 1] = JSON_UNESCAPES[kind] or fail('bad escape')
        pos = at + 2
      end
    end
  end
  local decode_value
  local function decode_list(close, item)
    pos = pos + 1
    skip()
    if text:sub(pos, pos) == close then
      pos = pos + 1
      return
    end
    while true do
      item()
      skip()
      local c = text:sub(pos, pos)
      pos = pos + 1
      if c == close then return end
      if c ~= ',' then fail("expected ',' or '" .. close .. "'") end
    end
  end
  function decode_value()
    skip()
    local c = text:sub(pos, pos)
    if c == '{' then
      local object = {}
      decode_list('}', function()
        skip()
        if text:sub(pos, pos) ~= '"' then fail('expected a name') end
        local name = decode_string()
        skip()
        if text:sub(pos, pos) ~= ':' then fail("expected ':'") end
        pos = pos + 1
        object[name] = decode_value()
      end)
      return object
    elseif c == '[' then
      local array, n = {}, 0
      decode_list(']', function()
        n = n + 1
        array[n] = decode_value()
      end)
      return array
    elseif c == '"' then
      return decode_string()
    end
    local number = text:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
    if number and tonumber(number) then
      pos = pos + #number
      return tonumber(number)
    end
    for word, value in pairs(JSON_LITERALS) do
      if text:sub(pos, pos + #word - 1) == word then
        pos = pos + #word
        return value
      end
    end
    if text:sub(pos, pos + 3) == 'null' then
      pos = pos + 4
      return nil
    end
    fail('unexpected ' .. (c == '' and 'end' or "'" .. c .. "'"))
  end
  local value = decode_value()
  skip()
  if pos <= #text then fail('trailing data') end
  return value
end
`;

/**
 * The Lua passdb (Dovecot 2.3's `driver = lua`, Lua 5.4) that asks Rempart about each login. It
 * holds the gateway token: install it mode 0600, owned by Dovecot's internal user (the `auth` and
 * `auth-worker` processes read it).
 */
export function dovecotLuaPassdb(input: LuaPassdbOptions): string {
  const o = parse(LuaPassdbOptions, input, 'Dovecot passdb');
  const url = `${o.rempartBase.replace(/\/+$/, '')}${MAIL_AUTH_PATH}`;
  return `-- Dovecot's passdb for the Rempart mail gateway, generated by Rempart: regenerate it rather than
-- edit it. It holds the gateway token: mode 0600, owned by Dovecot's internal user.
local ENDPOINT = ${luaString(url)}
local AUTHORIZATION = ${luaString(`Bearer ${o.token}`)}
local TIMEOUT_MSECS = ${o.timeoutMs}

${LUA_JSON}
-- One HTTP client per auth-worker process, made at the first login: its connections are kept.
local client
local function http_client()
  if client == nil then
    client = dovecot.http.client({
      request_timeout_msecs = TIMEOUT_MSECS,
      request_absolute_timeout_msecs = TIMEOUT_MSECS,
      -- A login is asked once: a retry could count twice against the user's failed attempts.
      max_attempts = 1,
      max_connect_attempts = 1,
      no_auto_retry = true,
      no_auto_redirect = true,
      user_agent = 'Dovecot (Rempart mail gateway)',
    })
  end
  return client
end

-- Dovecot calls this for mechanisms that need the stored password (CRAM-MD5…), which Rempart never
-- hands out; auth_mechanisms offers none of them.
function auth_passdb_lookup(req)
  return dovecot.auth.PASSDB_RESULT_SCHEME_NOT_AVAILABLE, 'Rempart checks passwords, it does not look them up'
end

-- Every login: PLAIN and LOGIN with the password, OAUTHBEARER and XOAUTH2 with the bearer token.
function auth_password_verify(req, password)
  local body = '{"user":' .. json_string(req.user or '')
    .. ',"password":' .. json_string(password or '')
    .. ',"service":' .. json_string(req.service or '')
    .. ',"mechanism":' .. json_string(req.mech or '')
    .. ',"remoteIp":' .. json_string(req.remote_ip or '')
    .. ',"localIp":' .. json_string(req.local_ip or '')
    .. ',"session":' .. json_string(req.session or '') .. '}'
  local request = http_client():request({ url = ENDPOINT, method = 'POST' })
  request:add_header('Authorization', AUTHORIZATION)
  request:add_header('Content-Type', 'application/json')
  request:set_payload(body)
  local response = request:submit()
  local status = response:status()
  if status == 200 then
    local ok, reply = pcall(json_decode, response:payload() or '')
    if ok and type(reply) == 'table' and type(reply.user) == 'string' and reply.user ~= '' then
      return dovecot.auth.PASSDB_RESULT_OK, { user = reply.user }
    end
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, 'Rempart accepted the login but named no user'
  elseif status == 401 then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, 'Rempart refused the credentials'
  elseif status == 429 then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, 'Rempart refused the login: too many attempts'
  end
  -- Statuses from 9000 are the HTTP client's own: no connection, no answer in time…
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE,
    'Rempart did not answer: ' .. tostring(status) .. ' ' .. tostring(response:reason())
end
`;
}

/** main.cf and master.cf of a Postfix that only runs a submission service authenticated by Dovecot. */
export interface PostfixFiles {
  mainCf: string;
  masterCf: string;
}

/**
 * A Postfix instance with one network service, submission on `address:port`, whose AUTH is checked
 * by Dovecot (`smtpd_sasl_type = dovecot`) and so by Rempart. It delivers nothing: every transport is
 * `discard`. Throws a `validation_failed` error naming every bad option.
 */
export function postfixConfig(input: PostfixOptions): PostfixFiles {
  const o = parse(PostfixOptions, input, 'Postfix');
  const families = new Set([isIP(o.address), isIP(o.dovecotAuthAddress)]);
  const inetProtocols = families.size === 2 ? 'all' : families.has(6) ? 'ipv6' : 'ipv4';
  const logDirectory = o.maillogFile.slice(0, o.maillogFile.lastIndexOf('/')) || '/';
  const mainCf = [
    '# Postfix submission for the Rempart mail gateway, generated by Rempart: regenerate it rather',
    '# than edit it. AUTH is checked by Dovecot, which asks Rempart; nothing is delivered anywhere.',
    'compatibility_level = 3.6',
    `queue_directory = ${o.queueDirectory}`,
    `data_directory = ${o.dataDirectory}`,
    `mail_owner = ${o.mailOwner}`,
    `setgid_group = ${o.setgidGroup}`,
    `myhostname = ${o.hostname}`,
    'myorigin = $myhostname',
    'inet_interfaces = loopback-only',
    `inet_protocols = ${inetProtocols}`,
    'biff = no',
    '',
    '# No delivery: no local domain, no relay host, every transport discards.',
    'mydestination =',
    'relay_domains =',
    'relayhost =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'default_transport = discard:delivery disabled on this gateway',
    'local_transport = discard:delivery disabled on this gateway',
    'relay_transport = discard:delivery disabled on this gateway',
    'virtual_transport = discard:delivery disabled on this gateway',
    '',
    "# Postfix's own log file, through postlogd, for Rempart's server watch.",
    `maillog_file = ${o.maillogFile}`,
    `maillog_file_prefixes = ${logDirectory}`,
    '',
    'smtpd_sasl_auth_enable = yes',
    'smtpd_sasl_type = dovecot',
    `smtpd_sasl_path = inet:${endpoint(o.dovecotAuthAddress, o.dovecotAuthPort)}`,
    'smtpd_sasl_security_options = noanonymous',
    'smtpd_sasl_authenticated_header = no',
    'mynetworks_style = host',
    'smtpd_relay_restrictions = permit_sasl_authenticated, reject',
    ...(o.tls === undefined
      ? ['# Loopback only, without TLS.', 'smtpd_tls_security_level = none']
      : [
          '# STARTTLS before anything else, AUTH included.',
          'smtpd_tls_security_level = encrypt',
          'smtpd_tls_auth_only = yes',
          `smtpd_tls_cert_file = ${o.tls.certPath}`,
          `smtpd_tls_key_file = ${o.tls.keyPath}`,
          'smtpd_tls_mandatory_protocols = >=TLSv1.2',
        ]),
    '',
  ].join('\n');
  // Only the services submission needs: smtpd and the internal ones it talks to. No chroot (the
  // queue is the instance's own), no pickup (nothing is submitted through sendmail).
  const service = (
    name: string,
    type: string,
    priv: string,
    wakeup: string,
    limit: string,
    command: string,
  ) =>
    `${name.padEnd(16)} ${type.padEnd(10)} ${priv}       -       n       ${wakeup.padEnd(7)} ${limit.padEnd(7)} ${command}`;
  const masterCf = [
    '# Postfix services for the Rempart mail gateway, generated by Rempart.',
    '# service          type       private unpriv  chroot  wakeup  maxproc command',
    service(endpoint(o.address, o.port), 'inet', 'n', '-', '-', 'smtpd'),
    '  -o syslog_name=postfix/submission',
    '  -o smtpd_sasl_auth_enable=yes',
    '  -o smtpd_client_restrictions=permit_sasl_authenticated,reject',
    service('cleanup', 'unix', 'n', '-', '0', 'cleanup'),
    service('qmgr', 'unix', 'n', '300', '1', 'qmgr'),
    service('rewrite', 'unix', '-', '-', '-', 'trivial-rewrite'),
    service('bounce', 'unix', '-', '-', '0', 'bounce'),
    service('defer', 'unix', '-', '-', '0', 'bounce'),
    service('trace', 'unix', '-', '-', '0', 'bounce'),
    service('proxymap', 'unix', '-', '-', '-', 'proxymap'),
    service('anvil', 'unix', '-', '-', '1', 'anvil'),
    service('discard', 'unix', '-', '-', '-', 'discard'),
    service('error', 'unix', '-', '-', '-', 'error'),
    service('retry', 'unix', '-', '-', '-', 'error'),
    service('postlog', 'unix-dgram', 'n', '-', '1', 'postlogd'),
    '',
  ].join('\n');
  return { mainCf, masterCf };
}

export const PostfixServiceOptions = z.object({
  port: Port.default(587),
  dovecotAuthAddress: LoopbackAddress.default('127.0.0.1'),
  dovecotAuthPort: Port.default(12345),
});
export type PostfixServiceOptions = z.input<typeof PostfixServiceOptions>;

/**
 * The master.cf lines that make an institution's own Postfix check every submission login through
 * Dovecot, and so through Rempart: TLS first, AUTH required, relaying only for the authenticated.
 */
export function postfixSubmissionService(input: PostfixServiceOptions): string {
  const o = parse(PostfixServiceOptions, input, 'Postfix');
  return [
    '# Add to /etc/postfix/master.cf (generated by Rempart): submission logins are checked by Dovecot,',
    '# whose passdb asks Rempart. Then: postfix reload',
    `${o.port} inet n - y - - smtpd`,
    '  -o syslog_name=postfix/submission',
    '  -o smtpd_tls_security_level=encrypt',
    '  -o smtpd_sasl_auth_enable=yes',
    '  -o smtpd_sasl_type=dovecot',
    `  -o smtpd_sasl_path=inet:${endpoint(o.dovecotAuthAddress, o.dovecotAuthPort)}`,
    '  -o smtpd_client_restrictions=permit_sasl_authenticated,reject',
    '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject',
    '',
  ].join('\n');
}
