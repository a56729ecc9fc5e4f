import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.schema.js';

describe('parseConfig', () => {
  it('runs with no configuration at all: port 8080, ./data, loopback, plain HTTP', () => {
    const result = parseConfig({});
    expect(result).toEqual({
      ok: true,
      config: {
        port: 8080,
        host: '127.0.0.1',
        dataDir: './data',
        databaseUrl: undefined,
        publicUrl: 'http://localhost:8080',
        tls: { mode: 'off' },
        logLevel: 'info',
        trustProxy: false,
        secretKey: undefined,
        media: { ip: '127.0.0.1', ports: undefined, turn: undefined, engine: 'embedded', janus: undefined },
        mail: undefined,
        meetings: { stepUpSeconds: 600, resumeGraceSeconds: 20 },
        leakcheck: { workers: 2, languages: ['fra'] },
        dns: {
          listen: undefined,
          upstreams: undefined,
          blockPage: {},
          logDays: 7,
          rateLimit: 100,
          trusted: ['127.0.0.0/8', '::1/128'],
          replicaToken: undefined,
        },
        spyware: { iocsDir: './data/iocs', rawDays: 30, uploadMaxBytes: 8 * 1024 ** 3 },
        watch: {
          syslog: undefined,
          syslogTls: undefined,
          files: [],
          rulesDirs: [],
          sigmaHq: true,
          eventDays: 30,
          hitDays: 365,
          ingestToken: undefined,
          block: { mode: 'dry-run', minutes: 60, level: 'high', allow: [], jail: 'rempart' },
          webhook: undefined,
        },
      },
    });
  });

  it('reads the server watch settings, naming every bad one', () => {
    const watch = (env: Record<string, string>) => {
      const result = parseConfig(env);
      return result.ok ? result.config.watch : result.errors;
    };
    expect(
      watch({
        REMPART_WATCH_SYSLOG: '0.0.0.0:5514',
        REMPART_WATCH_FILES: '/var/log/mail.log=postfix, /var/log/auth.log',
        REMPART_WATCH_RULES: '/etc/rempart/rules',
        REMPART_WATCH_SIGMAHQ: 'false',
        REMPART_WATCH_BLOCK: 'nftables',
        REMPART_WATCH_ALLOW: '10.0.0.0/8, 2001:db8::/32',
        REMPART_WATCH_WEBHOOK_URL: 'https://soc.example/hook',
        REMPART_WATCH_WEBHOOK_SECRET: 'a-secret-of-sixteen',
      }),
    ).toMatchObject({
      syslog: { host: '0.0.0.0', port: 5514 },
      files: [
        { path: '/var/log/mail.log', format: 'postfix' },
        { path: '/var/log/auth.log', format: 'auto' },
      ],
      rulesDirs: ['/etc/rempart/rules'],
      sigmaHq: false,
      block: { mode: 'nftables', allow: ['10.0.0.0/8', '2001:db8::/32'] },
      webhook: { url: 'https://soc.example/hook', secret: 'a-secret-of-sixteen' },
    });
    expect(
      watch({
        REMPART_WATCH_SYSLOG: 'nowhere:99999',
        REMPART_WATCH_SYSLOG_TLS: '0.0.0.0:6514',
        REMPART_WATCH_FILES: '/var/log/x=Bad Format,/var/log/y=evtx',
        REMPART_WATCH_ALLOW: 'everyone',
        REMPART_WATCH_WEBHOOK_SECRET: 'a-secret-of-sixteen',
      }),
    ).toEqual([
      'REMPART_WATCH_SYSLOG: must be address:port with a port within 0-65535',
      'REMPART_WATCH_SYSLOG_TLS: needs REMPART_TLS_CERT and REMPART_TLS_KEY',
      'REMPART_WATCH_FILES: /var/log/x=Bad Format is not path[=format]',
      'REMPART_WATCH_FILES: /var/log/y: format evtx is none of auto, syslog, postfix, dovecot, sshd, iis, combined, audit, windows, jsonl',
      'REMPART_WATCH_ALLOW: everyone is not a range',
      'REMPART_WATCH_WEBHOOK_SECRET: set REMPART_WATCH_WEBHOOK_URL too',
    ]);
    expect(watch({ REMPART_WATCH_WEBHOOK_URL: 'https://soc.example/hook' })).toEqual([
      expect.stringMatching(/^REMPART_WATCH_WEBHOOK_URL: needs REMPART_WATCH_WEBHOOK_SECRET/),
    ]);
    expect(watch({ REMPART_WATCH_BLOCK: 'iptables' })).toEqual([
      expect.stringMatching(/^REMPART_WATCH_BLOCK: /),
    ]);
    expect(watch({ REMPART_WATCH_INGEST_TOKEN: 'short' })).toEqual([
      expect.stringMatching(/^REMPART_WATCH_INGEST_TOKEN: must be 32/),
    ]);
  });

  it('watches <data dir>/iocs for indicator bundles unless told another folder, and bounds uploads', () => {
    const spyware = (env: Record<string, string>) => {
      const result = parseConfig(env);
      return result.ok ? result.config.spyware : result.errors;
    };
    expect(spyware({ REMPART_DATA_DIR: '/srv/rempart/' })).toMatchObject({ iocsDir: '/srv/rempart/iocs' });
    expect(
      spyware({ REMPART_SPYWARE_IOCS_DIR: '/etc/rempart/iocs', REMPART_SPYWARE_RAW_DAYS: '0' }),
    ).toMatchObject({
      iocsDir: '/etc/rempart/iocs',
      rawDays: 0,
    });
    expect(spyware({ REMPART_SPYWARE_UPLOAD_MAX_MB: '0' })).toEqual([
      expect.stringMatching(/^REMPART_SPYWARE_UPLOAD_MAX_MB: /),
    ]);
  });

  it('reads the network guard settings, naming every bad one', () => {
    const result = parseConfig({
      REMPART_DNS_LISTEN: '[::1]:5353',
      REMPART_DNS_UPSTREAMS: '10.0.0.53, [2001:db8::53]:5353',
      REMPART_DNS_BLOCKPAGE_IP: '10.0.0.80',
      REMPART_DNS_LOG_DAYS: '30',
      REMPART_DNS_RATE_LIMIT: '0',
      REMPART_DNS_TRUSTED: '10.0.0.0/8',
    });
    expect(result.ok && result.config.dns).toEqual({
      listen: { host: '::1', port: 5353 },
      upstreams: [
        { host: '10.0.0.53', port: 53 },
        { host: '2001:db8::53', port: 5353 },
      ],
      blockPage: { v4: '10.0.0.80' },
      logDays: 30,
      rateLimit: 0,
      trusted: ['10.0.0.0/8'],
    });
    const bad = parseConfig({
      REMPART_DNS_LISTEN: '127.0.0.1:99999',
      REMPART_DNS_UPSTREAMS: '10.0.0.53:0,a b',
      REMPART_DNS_TRUSTED: 'everyone',
    });
    expect(bad.ok).toBe(false);
    const errors = bad.ok ? [] : bad.errors.join('\n');
    expect(errors).toMatch(/REMPART_DNS_LISTEN/);
    expect(errors).toMatch(/REMPART_DNS_UPSTREAMS: 10\.0\.0\.53:0/);
    expect(errors).toMatch(/REMPART_DNS_UPSTREAMS: a b/);
    expect(errors).toMatch(/REMPART_DNS_TRUSTED: everyone/);
  });

  it('reads the OCR languages of the leak check, leader first, and refuses unknown or repeated ones', () => {
    const one = parseConfig({ REMPART_LEAKCHECK_LANGUAGES: 'fra' });
    expect(one.ok && one.config.leakcheck.languages).toEqual(['fra']);
    const two = parseConfig({ REMPART_LEAKCHECK_LANGUAGES: 'nld+eng' });
    expect(two.ok && two.config.leakcheck.languages).toEqual(['nld', 'eng']);
    for (const wrong of ['deu', 'fra+fra', '', 'fra+', 'fra,eng']) {
      const bad = parseConfig({ REMPART_LEAKCHECK_LANGUAGES: wrong });
      expect(bad.ok, wrong).toBe(false);
      expect(bad.ok ? '' : bad.errors.join('\n')).toMatch(/REMPART_LEAKCHECK_LANGUAGES/);
    }
  });

  it('lets the meeting step-up window be shortened, never lengthened', () => {
    const short = parseConfig({ REMPART_MEETING_STEP_UP_SECONDS: '120' });
    expect(short.ok && short.config.meetings.stepUpSeconds).toBe(120);
    expect(parseConfig({ REMPART_MEETING_STEP_UP_SECONDS: '601' }).ok).toBe(false);
    expect(parseConfig({ REMPART_MEETING_STEP_UP_SECONDS: '10' }).ok).toBe(false);
  });

  it('reads the outgoing mail settings', () => {
    const result = parseConfig({
      REMPART_SMTP_URL: 'smtp://rempart:secret@mail.example.org:587',
      REMPART_PUBLIC_URL: 'https://rempart.example.org',
    });
    expect(result.ok && result.config.mail).toEqual({
      smtpUrl: 'smtp://rempart:secret@mail.example.org:587',
      from: 'Rempart <no-reply@rempart.example.org>',
    });
    expect(parseConfig({ REMPART_SMTP_URL: 'http://mail.example.org' }).ok).toBe(false);
  });

  it('reads the media settings and refuses inconsistent ones', () => {
    const ok = parseConfig({
      REMPART_TLS: 'self-signed',
      REMPART_MEDIA_IP: '192.0.2.10',
      REMPART_MEDIA_PORTS: '40000-40100',
      REMPART_TURN_URLS: 'turn:turn.example.org:3478, turns:turn.example.org:5349',
      REMPART_TURN_SECRET: 'a-long-shared-secret',
    });
    expect(ok.ok && ok.config.media).toEqual({
      ip: '192.0.2.10',
      ports: { min: 40000, max: 40100 },
      turn: {
        urls: ['turn:turn.example.org:3478', 'turns:turn.example.org:5349'],
        secret: 'a-long-shared-secret',
      },
      engine: 'embedded',
      janus: undefined,
    });
    // Facing the network, the media address is found from the interfaces unless set.
    const tls = parseConfig({ REMPART_TLS: 'self-signed' });
    expect(tls.ok && tls.config.media.ip).toBeUndefined();
    const bad = parseConfig({
      REMPART_MEDIA_PORTS: '50000-40000',
      REMPART_TURN_URLS: 'http://turn.example.org',
    });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.join('\n')).toMatch(
      /REMPART_MEDIA_PORTS[\s\S]*REMPART_TURN_URLS[\s\S]*REMPART_TURN_SECRET/,
    );
    expect(parseConfig({ REMPART_MEDIA_IP: 'not-an-ip' }).ok).toBe(false);
  });

  it('reads the Janus engine’s nodes and secrets, and refuses Janus without them', () => {
    const ok = parseConfig({
      REMPART_MEDIA_ENGINE: 'janus',
      REMPART_JANUS_NODES: 'http://10.0.0.5:8088/janus/, http://10.0.0.6:8088/janus',
      REMPART_JANUS_API_SECRET: 'an-api-secret-of-janus',
      REMPART_JANUS_ADMIN_KEY: 'the-videoroom-admin-key',
    });
    expect(ok.ok && ok.config.media).toMatchObject({
      engine: 'janus',
      janus: {
        nodes: ['http://10.0.0.5:8088/janus', 'http://10.0.0.6:8088/janus'],
        apiSecret: 'an-api-secret-of-janus',
        adminKey: 'the-videoroom-admin-key',
      },
    });
    const bare = parseConfig({ REMPART_MEDIA_ENGINE: 'janus' });
    expect(!bare.ok && bare.errors).toEqual([
      'REMPART_JANUS_NODES: required with REMPART_MEDIA_ENGINE=janus (e.g. http://10.0.0.5:8088/janus)',
      "REMPART_JANUS_API_SECRET: required with REMPART_MEDIA_ENGINE=janus (Janus's api_secret)",
      "REMPART_JANUS_ADMIN_KEY: required with REMPART_MEDIA_ENGINE=janus (the VideoRoom's admin_key)",
    ]);
    const badUrl = parseConfig({
      REMPART_MEDIA_ENGINE: 'janus',
      REMPART_JANUS_NODES: 'http://10.0.0.5:8088/janus,ws://10.0.0.6:8188',
      REMPART_JANUS_API_SECRET: 'an-api-secret-of-janus',
      REMPART_JANUS_ADMIN_KEY: 'the-videoroom-admin-key',
    });
    expect(!badUrl.ok && badUrl.errors).toEqual([
      'REMPART_JANUS_NODES: ws://10.0.0.6:8188 is not an http(s) URL',
    ]);
    expect(parseConfig({ REMPART_MEDIA_ENGINE: 'mediasoup' }).ok).toBe(false);
    expect(parseConfig({ REMPART_JANUS_API_SECRET: 'short' }).ok).toBe(false);
    // Janus's settings mean nothing to the embedded engine.
    const embedded = parseConfig({ REMPART_JANUS_NODES: 'http://10.0.0.5:8088/janus' });
    expect(embedded.ok && embedded.config.media).toMatchObject({ engine: 'embedded', janus: undefined });
  });

  it('takes a media port range of two ports at least, and says how many participants a range serves', () => {
    const smallest = parseConfig({ REMPART_MEDIA_PORTS: '1-2' });
    expect(smallest.ok && smallest.config.media.ports).toEqual({ min: 1, max: 2 });
    for (const range of ['40000-40000', '40001-40000']) {
      const result = parseConfig({ REMPART_MEDIA_PORTS: range });
      expect(result).toEqual({
        ok: false,
        errors: [
          'REMPART_MEDIA_PORTS: min must be less than max; each participant takes two ports, ' +
            'so 40000-40199 serves 100 participants',
        ],
      });
    }
    for (const range of ['0-100', '65000-65536', '70000-80000', '99999-1'])
      expect(parseConfig({ REMPART_MEDIA_PORTS: range })).toEqual({
        ok: false,
        errors: ['REMPART_MEDIA_PORTS: ports must be within 1-65535'],
      });
    for (const range of ['40000', '40000-', '-40000', '40000:40100', '400000-400001'])
      expect(parseConfig({ REMPART_MEDIA_PORTS: range }).ok).toBe(false);
  });

  it('listens on every interface with HTTPS when TLS is on', () => {
    const result = parseConfig({ REMPART_TLS: 'self-signed', REMPART_PORT: '8443' });
    expect(result.ok && result.config).toMatchObject({
      host: '0.0.0.0',
      publicUrl: 'https://localhost:8443',
      tls: { mode: 'self-signed' },
    });
  });

  it('takes certificate files and infers TLS from them', () => {
    const result = parseConfig({
      REMPART_TLS_CERT: '/etc/rempart/cert.pem',
      REMPART_TLS_KEY: '/etc/rempart/key.pem',
    });
    expect(result.ok && result.config.tls).toEqual({
      mode: 'files',
      certFile: '/etc/rempart/cert.pem',
      keyFile: '/etc/rempart/key.pem',
    });
  });

  it('names every bad variable at once', () => {
    const result = parseConfig({
      REMPART_PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      REMPART_LOG_LEVEL: 'loud',
      REMPART_SECRET_KEY: 'short',
    });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    for (const name of ['REMPART_PORT', 'DATABASE_URL', 'REMPART_LOG_LEVEL', 'REMPART_SECRET_KEY']) {
      expect(errors.some((e) => e.startsWith(name))).toBe(true);
    }
  });

  it('refuses a certificate without its key', () => {
    const result = parseConfig({ REMPART_TLS: 'files', REMPART_TLS_CERT: '/c.pem' });
    expect(result).toEqual({ ok: false, errors: ['REMPART_TLS_KEY: required when TLS uses files'] });
  });

  it('accepts a 32-byte base64 secret key and strips a trailing slash from the public URL', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const result = parseConfig({
      REMPART_SECRET_KEY: key,
      REMPART_PUBLIC_URL: 'https://rempart.ministere.gouv.fr/',
    });
    expect(result.ok && result.config).toMatchObject({
      secretKey: key,
      publicUrl: 'https://rempart.ministere.gouv.fr',
    });
  });

  it('never throws, whatever the environment holds (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'REMPART_PORT',
            'REMPART_HOST',
            'DATABASE_URL',
            'REMPART_PUBLIC_URL',
            'REMPART_TLS',
            'REMPART_TRUST_PROXY',
            'REMPART_SECRET_KEY',
          ),
          fc.string(),
        ),
        (env) => {
          const result = parseConfig(env);
          if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
