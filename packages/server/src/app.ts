/**
 * The Fastify application: security headers, JSON-only bodies with a size limit,
 * errors with stable codes, the OpenAPI document, the API routes and the console.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import { RempartError } from '@rempart/core';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { alertRoutes } from './alerts/alert.routes.js';
import { auditRoutes } from './audit/audit.routes.js';
import { installAuth } from './http/auth.js';
import { sendError } from './http/errors.js';
import { RequestLogController } from './http/request-log.js';
import { adminRoutes } from './identity/admin.routes.js';
import { identityRoutes } from './identity/identity.routes.js';
import { mailAccessRoutes } from './identity/mail/mail-access.routes.js';
import { oidcRoutes } from './identity/oidc/oidc.routes.js';
import { leakcheckRoutes } from './leakcheck/leakcheck.routes.js';
import { meetingRoutes } from './meetings/meetings.routes.js';
import { netguardRoutes } from './netguard/netguard.routes.js';
import { signallingRoutes } from './meetings/signalling.js';
import { indicatorRoutes } from './spyware/store/indicators.routes.js';
import { fleetRoutes } from './spyware/fleet/fleet.routes.js';
import type { Platform } from './platform.js';
import { watchRoutes } from './serverwatch/watch.routes.js';

export const defaultWebRoot = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** API bodies are small JSON documents; uploads (images, bundles) get their own limits later. */
export const API_BODY_LIMIT = 64 * 1024;

export interface AppOptions {
  webRoot?: string;
  https?: { key: string; cert: string };
}

/** The Content-Security-Policy: everything from Rempart itself, nothing inline, no framing. */
export const contentSecurityPolicy = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'media-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
};

export async function buildApp(platform: Platform, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = platform;
  const secure = config.tls.mode !== 'off';
  const publicOrigin = new URL(config.publicUrl).origin;
  // One app type whether or not it serves HTTPS: the routes do not depend on the transport.
  const app = Fastify({
    loggerInstance: platform.log.child({ subsystem: 'http' }),
    bodyLimit: API_BODY_LIMIT,
    trustProxy: config.trustProxy,
    genReqId: () => crypto.randomUUID(),
    logController: new RequestLogController(),
    return503OnClosing: true,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(fastifyCookie);
  // Larger than any message accepted, so that an oversized one is answered, not a dropped socket.
  await app.register(fastifyWebsocket, { options: { maxPayload: 256 * 1024 } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rempart API',
        version: '0.1.0',
        description: 'Identity, audit log, alerts and meetings of Rempart.',
      },
      components: {
        securitySchemes: {
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: secure ? '__Host-rempart_session' : 'rempart_session',
          },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
        },
      },
    },
    transform: jsonSchemaTransform,
    // Schemas registered with an id (ErrorBody, …) become shared components referenced by $ref.
    transformObject: jsonSchemaTransformObject,
  });

  // Only JSON is accepted on the API (the default text/plain parser is removed).
  app.removeContentTypeParser('text/plain');

  installAuth(app, { identity: platform.identity, secure, publicOrigin });

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await platform.database.db.execute('select 1');
    return { status: 'ok' };
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());

  identityRoutes(app, platform.identity, secure);
  adminRoutes(app, platform.identity);
  await oidcRoutes(app, platform.oidc);
  mailAccessRoutes(app, platform.mailAccess);
  auditRoutes(app, platform.audit);
  alertRoutes(app, platform.alerts, platform.audit, publicOrigin);
  meetingRoutes(app, platform.meetings, platform.live);
  signallingRoutes(app, platform.live, publicOrigin);
  await leakcheckRoutes(app, platform.leakcheck);
  await netguardRoutes(app, platform.netguard);
  await indicatorRoutes(app, platform.spyware.store);
  await fleetRoutes(app, platform.spyware.fleet, { uploadMaxBytes: config.spyware.uploadMaxBytes });
  await watchRoutes(app, platform.watch);

  const webRoot = options.webRoot ?? defaultWebRoot;
  const hasConsole = existsSync(`${webRoot}/index.html`);
  if (hasConsole) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: true, index: ['index.html'] });
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // A missing file (hashed asset of an older build, favicon, …) is a 404, not the console page.
    const isFile = path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path);
    if (path.startsWith('/api/') || request.method !== 'GET' || !hasConsole || isFile) {
      return sendError(request, reply, RempartError.notFound('route'));
    }
    // Client-side routes of the console (/enrol/…, /account, …) all load the same page.
    return reply.type('text/html').sendFile('index.html');
  });
  return app;
}
