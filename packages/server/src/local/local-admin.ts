/**
 * The local administration socket. PGlite admits one process per data directory, so
 * while the server runs, `rempart admin create` and `rempart audit verify` go through
 * this Unix socket in the data directory (mode 0600: only the server's own user).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import {
  WatchEventPage,
  WatchHuntRequest,
  WatchHuntResult,
  WatchSearchQuery,
  AuditVerifyResult,
  DisplayName,
  DnsTestQuery,
  DnsVerdict,
  PolicyExportQuery,
  Email,
  EnrolmentLink,
  LEAKCHECK_MAX_BYTES,
  LeakCheckQuery,
  LeakCheckResult,
  RempartError,
  type Config,
} from '@rempart/core';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendError } from '../http/errors.js';
import type { Platform } from '../platform.js';

export function localSocketPath(config: Config): string {
  return join(resolve(config.dataDir), 'rempart.sock');
}

export const CreateAdminRequest = z.strictObject({
  email: Email,
  name: DisplayName,
  unit: z.string().trim().max(120).default(''),
});

const PolicyExport = z.object({ contentType: z.string(), body: z.string(), filename: z.string() });

/** Starts the socket server; returns a function that stops it and removes the socket file. */
export async function startLocalAdmin(platform: Platform): Promise<{ close(): Promise<void> }> {
  const path = localSocketPath(platform.config);
  if (existsSync(path)) unlinkSync(path);
  const app = Fastify({
    loggerInstance: platform.log.child({ subsystem: 'local-admin' }),
    bodyLimit: 16 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/admin/create',
    { schema: { body: CreateAdminRequest, response: { 201: EnrolmentLink } } },
    async (request, reply) => {
      const { email, name, unit } = request.body;
      const link = await platform.identity.inviteAgent(
        null,
        { email, displayName: name, unit, role: 'admin', clearance: 'secret' },
        { ip: 'local', userAgent: 'rempart-cli' },
      );
      return reply.status(201).send(link);
    },
  );
  r.get('/audit/verify', { schema: { response: { 200: AuditVerifyResult } } }, async () =>
    platform.audit.verify(),
  );
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: LEAKCHECK_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    scoped.withTypeProvider<ZodTypeProvider>().post(
      '/leakcheck',
      {
        bodyLimit: LEAKCHECK_MAX_BYTES,
        schema: { querystring: LeakCheckQuery, response: { 200: LeakCheckResult } },
      },
      async (request) =>
        platform.leakcheck.check(null, request.body as Buffer, {
          redact: request.query.redact === 'true',
          ip: 'local',
        }),
    );
    done();
  });
  r.get(
    '/netguard/test',
    { schema: { querystring: DnsTestQuery, response: { 200: DnsVerdict } } },
    (request) => platform.netguard.explain(request.query.domain, request.query.client),
  );
  r.get(
    '/netguard/policy',
    { schema: { querystring: PolicyExportQuery, response: { 200: PolicyExport } } },
    async (request) => platform.netguard.exportPolicy(request.query.platform, request.query.group),
  );
  r.get(
    '/watch/events',
    { schema: { querystring: WatchSearchQuery, response: { 200: WatchEventPage } } },
    async (request) => platform.watch.search(request.query),
  );
  r.post(
    '/watch/hunts',
    { schema: { body: WatchHuntRequest, response: { 200: WatchHuntResult } } },
    async (request) => platform.watch.hunt(null, request.body, 'local'),
  );
  r.get('/status', () => ({ status: 'ok' }));
  app.addHook('onClose', () => {
    if (existsSync(path)) unlinkSync(path);
  });
  await app.listen({ path });
  chmodSync(path, 0o600);
  return app;
}

/** Talks to a running server through its socket. */
export class LocalAdminClient {
  constructor(private readonly socketPath: string) {}

  /** True when a server answers on the socket. */
  async available(): Promise<boolean> {
    if (!existsSync(this.socketPath)) return false;
    try {
      await this.call('GET', '/status');
      return true;
    } catch {
      return false;
    }
  }

  async createAdmin(input: { email: string; name: string; unit?: string }): Promise<EnrolmentLink> {
    return EnrolmentLink.parse(await this.call('POST', '/admin/create', input));
  }

  async verifyAudit(): Promise<AuditVerifyResult> {
    return AuditVerifyResult.parse(await this.call('GET', '/audit/verify'));
  }

  async leakcheck(file: Buffer, redact: boolean): Promise<LeakCheckResult> {
    return LeakCheckResult.parse(await this.call('POST', `/leakcheck?redact=${redact}`, file));
  }

  async dnsTest(domain: string, client: string): Promise<DnsVerdict> {
    const query = new URLSearchParams({ domain, client });
    return DnsVerdict.parse(await this.call('GET', `/netguard/test?${query}`));
  }

  async exportPolicy(platform: 'ios' | 'android', group: string): Promise<z.infer<typeof PolicyExport>> {
    const query = new URLSearchParams({ platform, group });
    return PolicyExport.parse(await this.call('GET', `/netguard/policy?${query}`));
  }

  async watchSearch(query: WatchSearchQuery): Promise<WatchEventPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    return WatchEventPage.parse(await this.call('GET', `/watch/events?${params}`));
  }

  async watchHunt(request: WatchHuntRequest): Promise<WatchHuntResult> {
    return WatchHuntResult.parse(await this.call('POST', '/watch/hunts', request));
  }

  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
      const raw = Buffer.isBuffer(body);
      const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
      const req = httpRequest(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload
            ? {
                'content-type': raw ? 'application/octet-stream' : 'application/json',
                'content-length': Buffer.byteLength(payload),
              }
            : {},
          timeout: 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(new Error(`unexpected answer from the server socket: ${text.slice(0, 200)}`));
              return;
            }
            if ((res.statusCode ?? 500) >= 400) {
              const err = (parsed as { error?: { code?: string; message?: string } }).error;
              reject(
                new RempartError(
                  (err?.code ?? 'internal_error') as ConstructorParameters<typeof RempartError>[0],
                  err?.message ?? 'The server refused the request.',
                ),
              );
              return;
            }
            resolvePromise(parsed);
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('the server socket did not answer')));
      if (payload) req.write(payload);
      req.end();
    });
  }
}
