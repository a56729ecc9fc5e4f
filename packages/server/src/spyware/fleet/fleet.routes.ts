/**
 * The fleet over HTTP: administrators ask for checks of agents' phones and upload their artifacts;
 * owners consent (or withdraw) and see their own devices; the scans' results, timelines and
 * reports.
 */
import type { Readable } from 'node:stream';
import {
  ConsentFormQuery,
  ConsentInput,
  DeviceDetail,
  RempartError,
  Scan,
  ScanRequest,
  SpywareDevice,
  TimelinePage,
  TimelineQuery,
} from '@rempart/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../../http/auth.js';
import { ErrorBodySchema, errorResponses } from '../../http/openapi.js';
import { CONSENT_FORM_MAX_BYTES, type FleetService, type Viewer } from './fleet.service.js';

const IdParams = z.object({ id: z.uuid() });
const tags = ['spyware'];
const BACKUP_PASSWORD_HEADER = 'x-backup-password';

function viewerOf(request: FastifyRequest, level: 'full' | 'admin'): Viewer {
  const { agent } = requireAuth(request, level);
  return { id: agent.id, email: agent.email, role: agent.role };
}

export async function fleetRoutes(
  app: FastifyInstance,
  fleet: FleetService,
  options: { uploadMaxBytes: number },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/spyware/scans',
    {
      schema: {
        tags,
        summary: "Ask for a check of an agent's device; it waits for the owner's consent",
        body: ScanRequest,
        response: { 201: Scan, ...errorResponses },
      },
    },
    async (request, reply) => {
      const actor = viewerOf(request, 'admin');
      const scan = await fleet.requestScan(actor, request.body, requestContext(request).ip);
      return reply.code(201).send(scan);
    },
  );

  r.get(
    '/api/spyware/scans/:id',
    {
      schema: {
        tags,
        summary: 'A scan: its consent, progress and findings (administrators, or the owner)',
        params: IdParams,
        response: { 200: Scan, ...errorResponses },
      },
    },
    (request) => fleet.scan(viewerOf(request, 'full'), request.params.id),
  );

  r.post(
    '/api/spyware/scans/:id/consent',
    {
      schema: {
        tags,
        summary: "The device's owner consents to its check",
        params: IdParams,
        body: ConsentInput,
        response: { 200: Scan, ...errorResponses },
      },
    },
    (request) => fleet.consent(viewerOf(request, 'full'), request.params.id, requestContext(request).ip),
  );

  r.post(
    '/api/spyware/scans/:id/withdraw',
    {
      schema: {
        tags,
        summary: 'The owner withdraws consent before the scan runs',
        params: IdParams,
        response: { 200: Scan, ...errorResponses },
      },
    },
    (request) => fleet.withdraw(viewerOf(request, 'full'), request.params.id, requestContext(request).ip),
  );

  // The signed consent form: its bytes are the body (PDF, PNG or JPEG, told by its first bytes).
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: CONSENT_FORM_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    scoped.withTypeProvider<ZodTypeProvider>().post(
      '/api/spyware/scans/:id/consent-form',
      {
        bodyLimit: CONSENT_FORM_MAX_BYTES,
        schema: {
          tags,
          summary: "Attach the owner's signed consent form (PDF, PNG or JPEG body, at most 10 MB)",
          params: IdParams,
          querystring: ConsentFormQuery,
          response: { 200: Scan, 413: ErrorBodySchema, ...errorResponses },
        },
      },
      (request) => {
        const actor = viewerOf(request, 'admin');
        if (!Buffer.isBuffer(request.body))
          throw new RempartError('consent_form_invalid', 'Send the form itself as the request body.');
        return fleet.attachConsentForm(
          actor,
          request.params.id,
          request.query.fileName,
          request.body,
          requestContext(request).ip,
        );
      },
    );
    done();
  });

  r.get(
    '/api/spyware/scans/:id/consent-form',
    {
      schema: {
        tags,
        summary: 'The signed consent form attached to a scan (administrators, or the owner)',
        params: IdParams,
      },
    },
    async (request, reply) => {
      const form = await fleet.consentForm(viewerOf(request, 'full'), request.params.id);
      // Served as a download, never rendered in the console's origin.
      const name = form.fileName.replace(/[^\w.-]+/g, '_');
      return reply
        .type(form.contentType)
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(form.bytes));
    },
  );

  // The artifact: streamed to disk as it comes, never held in memory.
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser('*', (_request, payload, next) => next(null, payload));
    scoped.withTypeProvider<ZodTypeProvider>().post(
      '/api/spyware/scans/:id/artifact',
      {
        bodyLimit: options.uploadMaxBytes,
        schema: {
          tags,
          summary: 'Upload the artifact (a zip) of a consented scan; the scan runs in the background',
          description:
            'The body is a zip of an iOS backup folder, of an extracted sysdiagnose, an Android bug report ' +
            "zip as adb bugreport writes it, or a zip of an androidqf folder. An encrypted backup's password " +
            `goes in the ${BACKUP_PASSWORD_HEADER} header; it is never stored.`,
          params: IdParams,
          response: { 202: Scan, 413: ErrorBodySchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = viewerOf(request, 'admin');
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.uploadMaxBytes)
          throw new RempartError(
            'payload_too_large',
            `The artifact is larger than the ${options.uploadMaxBytes} bytes accepted.`,
            { details: { maxBytes: options.uploadMaxBytes } },
          );
        const password = request.headers[BACKUP_PASSWORD_HEADER];
        const scan = await fleet.uploadArtifact(actor, request.params.id, request.body as Readable, {
          password: typeof password === 'string' && password !== '' ? password : undefined,
          ip: requestContext(request).ip,
        });
        return reply.code(202).send(scan);
      },
    );
    done();
  });

  r.get(
    '/api/spyware/scans/:id/timeline',
    {
      schema: {
        tags,
        summary: "A page of the scan's timeline (kept until the end of its retention)",
        params: IdParams,
        querystring: TimelineQuery,
        response: { 200: TimelinePage, ...errorResponses },
      },
    },
    (request) => fleet.timeline(viewerOf(request, 'full'), request.params.id, request.query),
  );

  r.get(
    '/api/spyware/scans/:id/report.html',
    {
      schema: {
        tags,
        summary: "The scan's report as one HTML page, to attach to a case file",
        params: IdParams,
      },
    },
    async (request, reply) => {
      const html = await fleet.reportHtml(viewerOf(request, 'full'), request.params.id);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-disposition', `attachment; filename="spyware-scan-${request.params.id}.html"`)
        .send(html);
    },
  );

  r.get(
    '/api/spyware/devices',
    {
      schema: {
        tags,
        summary: 'The devices checked: every one for administrators, their own for agents',
        response: { 200: z.array(SpywareDevice), ...errorResponses },
      },
    },
    (request) => fleet.listDevices(viewerOf(request, 'full')),
  );

  r.get(
    '/api/spyware/devices/:id',
    {
      schema: {
        tags,
        summary: 'A device and its scans (administrators, or the owner)',
        params: IdParams,
        response: { 200: DeviceDetail, ...errorResponses },
      },
    },
    (request) => fleet.device(viewerOf(request, 'full'), request.params.id),
  );
}
