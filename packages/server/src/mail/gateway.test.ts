import { RempartError } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import {
  dovecotConfig,
  dovecotLuaPassdb,
  isLoopback,
  luaString,
  postfixConfig,
  postfixSubmissionService,
} from './gateway.js';

const TOKEN = 'gateway-token-0123456789abcdef';

/** The settings of a dovecot.conf or main.cf as `name = value` pairs, sections flattened. */
function settings(text: string): Record<string, string | undefined> {
  const found: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+) =(?: (.*))?$/.exec(line);
    if (m) found[m[1] as string] = m[2] ?? '';
  }
  return found;
}

/** The validation error `run` throws, or a failure when it throws none. */
function refusal(run: () => unknown): RempartError {
  try {
    run();
  } catch (error) {
    if (error instanceof RempartError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

describe('dovecotConfig', () => {
  const conf = dovecotConfig({ mailUid: 5000, mailGid: 5000 });

  it('checks every login with the Lua passdb in the auth workers, for the four mechanisms', () => {
    expect(conf).toContain(
      'passdb {\n  driver = lua\n' +
        '  # In auth-worker processes: a slow answer from Rempart holds up one worker, not every login.\n' +
        '  args = file=/etc/dovecot/rempart-passdb.lua blocking=yes\n}',
    );
    expect(settings(conf).auth_mechanisms).toBe('plain login oauthbearer xoauth2');
    expect(settings(conf).auth_cache_size).toBe('0');
    // One passdb and one userdb, nothing else asked.
    expect(conf.match(/^passdb \{/gm)).toHaveLength(1);
    expect(conf.match(/^userdb \{/gm)).toHaveLength(1);
  });

  it('logs logins and their failures the way the server watch reads them, never a password', () => {
    expect(settings(conf)).toMatchObject({
      auth_verbose: 'yes',
      auth_verbose_passwords: 'no',
      log_path: '/var/log/dovecot.log',
    });
  });

  it('owns every mailbox by the one mail user, and only by it', () => {
    const s = settings(conf);
    expect([s.first_valid_uid, s.last_valid_uid, s.first_valid_gid]).toEqual(['5000', '5000', '5000']);
    expect(s.args).toBe('uid=5000 gid=5000 home=/var/vmail/%d/%n');
    expect(s.default_login_user).toBe('dovenull');
    expect(s.default_internal_user).toBe('dovecot');
  });

  it('listens for IMAP and for Postfix on loopback, without TLS when none is given', () => {
    expect(conf).toContain('inet_listener imap {\n    address = 127.0.0.1\n    port = 143\n  }');
    expect(conf).toContain('inet_listener sasl {\n    address = 127.0.0.1\n    port = 12345\n  }');
    expect(settings(conf).ssl).toBe('no');
  });

  it('requires STARTTLS with the given certificate, and then may listen beyond loopback', () => {
    const tls = dovecotConfig({
      mailUid: 5000,
      mailGid: 5000,
      listenAddress: '192.0.2.25',
      tls: { certPath: '/etc/ssl/mail.pem', keyPath: '/etc/ssl/private/mail.key' },
    });
    expect(settings(tls)).toMatchObject({
      listen: '192.0.2.25',
      ssl: 'required',
      ssl_cert: '</etc/ssl/mail.pem',
      ssl_key: '</etc/ssl/private/mail.key',
    });
  });

  it('refuses IMAP without TLS beyond loopback, and an authentication listener beyond loopback', () => {
    const error = refusal(() =>
      dovecotConfig({ mailUid: 5000, mailGid: 5000, listenAddress: '0.0.0.0', authAddress: '192.0.2.25' }),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.message).toContain('authAddress: a loopback address');
    expect(
      refusal(() => dovecotConfig({ mailUid: 5000, mailGid: 5000, listenAddress: '0.0.0.0' })).message,
    ).toBe('Invalid Dovecot settings: listenAddress: IMAP without TLS listens on a loopback address only.');
  });

  it('turns off the auth penalty only when told', () => {
    expect(conf).not.toContain('anvil-auth-penalty');
    const off = dovecotConfig({ mailUid: 5000, mailGid: 5000, authPenalty: false });
    expect(off).toContain('service anvil {');
    expect(off).toContain('unix_listener anvil-auth-penalty {\n    mode = 0\n  }');
  });

  it('names every value that could break out of its line or be expanded', () => {
    const error = refusal(() =>
      dovecotConfig({
        mailUid: 0,
        mailGid: 5000,
        logPath: '/var/log/dovecot.log\nauth_mechanisms = anonymous',
        baseDir: 'run/dovecot',
        luaPassdbPath: '/etc/dovecot/$HOME.lua',
      }),
    );
    expect((error.details as { issues: { path: string[] }[] }).issues.map((i) => i.path.join('.'))).toEqual([
      'baseDir',
      'logPath',
      'luaPassdbPath',
      'mailUid',
    ]);
  });

  it('writes sections whose braces balance', () => {
    for (const text of [conf, dovecotConfig({ mailUid: 5000, mailGid: 5000, authPenalty: false })]) {
      let depth = 0;
      for (const line of text.split('\n')) {
        if (line.trimEnd().endsWith('{')) depth++;
        if (line.trim() === '}') depth--;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
    }
  });
});

describe('dovecotLuaPassdb', () => {
  it("posts to Rempart's mail login endpoint under the base, a path prefix and a trailing slash kept right", () => {
    const lua = dovecotLuaPassdb({ rempartBase: 'https://mail.interieur.gouv.fr/rempart/', token: TOKEN });
    expect(lua).toContain('local ENDPOINT = "https://mail.interieur.gouv.fr/rempart/api/mail/auth"');
    expect(lua).toContain(`local AUTHORIZATION = "Bearer ${TOKEN}"`);
    expect(lua).toContain('local TIMEOUT_MSECS = 2000');
  });

  it('sends the fields of the contract, from the request Dovecot hands over', () => {
    const lua = dovecotLuaPassdb({ rempartBase: 'http://127.0.0.1:8080', token: TOKEN, timeoutMs: 500 });
    for (const [field, from] of [
      ['user', 'req.user'],
      ['password', 'password'],
      ['service', 'req.service'],
      ['mechanism', 'req.mech'],
      ['remoteIp', 'req.remote_ip'],
      ['localIp', 'req.local_ip'],
      ['session', 'req.session'],
    ])
      expect(lua).toContain(`"${field}":' .. json_string(${from} or '')`);
    expect(lua).toContain('local TIMEOUT_MSECS = 500');
  });

  it('accepts only on 200 with a user, refuses on 401 and 429, and fails for the rest', () => {
    const lua = dovecotLuaPassdb({ rempartBase: 'http://127.0.0.1:8080', token: TOKEN });
    const verify = lua.slice(lua.indexOf('function auth_password_verify'));
    const results = [...verify.matchAll(/(status == \d+|return dovecot\.auth\.PASSDB_RESULT_[A-Z_]+)/g)].map(
      (m) => m[1],
    );
    expect(results).toEqual([
      'status == 200',
      'return dovecot.auth.PASSDB_RESULT_OK',
      'return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE',
      'status == 401',
      'return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH',
      'status == 429',
      'return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH',
      'return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE',
    ]);
  });

  it('refuses a URL with a query, another scheme, and a short or spaced token', () => {
    const error = refusal(() =>
      dovecotLuaPassdb({ rempartBase: 'https://rempart.example/?x=1', token: 'short' }),
    );
    expect(error.message).toContain('rempartBase: a URL without a query or fragment');
    expect(error.message).toContain('token: at least 16 characters');
    expect(
      refusal(() => dovecotLuaPassdb({ rempartBase: 'ftp://rempart.example', token: TOKEN })).message,
    ).toContain('an http:// or https:// URL');
    expect(
      refusal(() => dovecotLuaPassdb({ rempartBase: 'http://rempart.example', token: `${TOKEN} x` })).message,
    ).toContain('token: visible ASCII characters only');
  });
});

describe('luaString', () => {
  it('keeps printable ASCII and writes quotes, backslashes, controls and UTF-8 bytes as decimal escapes', () => {
    expect(luaString('plain text')).toBe('"plain text"');
    expect(luaString('a"b\\c\nd')).toBe('"a\\034b\\092c\\010d"');
    expect(luaString('é')).toBe('"\\195\\169"');
  });
});

describe('postfixConfig', () => {
  const { mainCf, masterCf } = postfixConfig({ port: 10587, dovecotAuthPort: 10344 });
  const main = settings(mainCf);

  it("authenticates through Dovecot's listener", () => {
    expect(main).toMatchObject({
      smtpd_sasl_auth_enable: 'yes',
      smtpd_sasl_type: 'dovecot',
      smtpd_sasl_path: 'inet:127.0.0.1:10344',
      smtpd_relay_restrictions: 'permit_sasl_authenticated, reject',
    });
  });

  it('listens on loopback only and delivers nothing, anywhere', () => {
    expect(main.inet_interfaces).toBe('loopback-only');
    expect(main.inet_protocols).toBe('ipv4');
    expect(main.relayhost).toBe('');
    expect(main.mydestination).toBe('');
    for (const transport of ['default_transport', 'local_transport', 'relay_transport', 'virtual_transport'])
      expect(main[transport]).toBe('discard:delivery disabled on this gateway');
  });

  it('keeps its queue and log in its own folders', () => {
    expect(main).toMatchObject({
      queue_directory: '/var/spool/postfix-rempart',
      data_directory: '/var/lib/postfix-rempart',
      maillog_file: '/var/log/postfix-rempart.log',
      maillog_file_prefixes: '/var/log',
    });
  });

  it('runs one network service, submission, and postlogd for the log file', () => {
    const services = masterCf
      .split('\n')
      .filter((line) => /^[^#\s]/.test(line))
      .map((line) => line.split(/\s+/));
    expect(services.filter((s) => s[1] === 'inet').map((s) => [s[0], s.at(-1)])).toEqual([
      ['127.0.0.1:10587', 'smtpd'],
    ]);
    expect(services.find((s) => s[0] === 'postlog')).toEqual([
      'postlog',
      'unix-dgram',
      'n',
      '-',
      'n',
      '-',
      '1',
      'postlogd',
    ]);
    // No chroot: the queue is the instance's own.
    expect(services.every((s) => s[4] === 'n')).toBe(true);
  });

  it('writes IPv6 endpoints in brackets', () => {
    const v6 = postfixConfig({ address: '::1', dovecotAuthAddress: '::1' });
    expect(settings(v6.mainCf).smtpd_sasl_path).toBe('inet:[::1]:12345');
    expect(settings(v6.mainCf).inet_protocols).toBe('ipv6');
    expect(v6.masterCf).toContain('\n[::1]:587 ');
  });

  it('requires STARTTLS before AUTH when given a certificate', () => {
    const tls = settings(
      postfixConfig({ tls: { certPath: '/etc/ssl/mail.pem', keyPath: '/etc/ssl/mail.key' } }).mainCf,
    );
    expect(tls).toMatchObject({
      smtpd_tls_security_level: 'encrypt',
      smtpd_tls_auth_only: 'yes',
      smtpd_tls_cert_file: '/etc/ssl/mail.pem',
    });
    expect(main.smtpd_tls_security_level).toBe('none');
  });

  it('refuses a submission service beyond loopback and a $ in a path', () => {
    const error = refusal(() => postfixConfig({ address: '192.0.2.25', queueDirectory: '/var/spool/$name' }));
    expect(error.message).toBe(
      'Invalid Postfix settings: address: a loopback address (127.0.0.0/8 or ::1); ' +
        'queueDirectory: an absolute path of letters, digits and . _ + @ / -.',
    );
  });
});

describe('isLoopback', () => {
  it('knows 127.0.0.0/8 and ::1, in any of its spellings', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::0:1'])
      expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '0.0.0.0', '::', '1::1', '::ffff:127.0.0.1', 'localhost'])
      expect(isLoopback(address), address).toBe(false);
  });
});

describe('postfixSubmissionService', () => {
  it('gives the master.cf lines of a submission service whose logins Dovecot checks', () => {
    const lines = postfixSubmissionService({ port: 587, dovecotAuthAddress: '::1', dovecotAuthPort: 12345 });
    expect(lines).toMatch(/^587 inet n - y - - smtpd$/m);
    expect(lines).toContain('-o smtpd_sasl_path=inet:[::1]:12345');
    expect(lines).toContain('-o smtpd_relay_restrictions=permit_sasl_authenticated,reject');
  });

  it('refuses an authentication listener off loopback, and a bad port', () => {
    expect(() => postfixSubmissionService({ dovecotAuthAddress: '192.0.2.1' })).toThrow(/dovecotAuthAddress/);
    expect(() => postfixSubmissionService({ port: 70_000 })).toThrow(/port/);
  });
});
