/**
 * The server watch over HTTP: log shippers post JSON lines to `/api/watch/ingest` with the ingest
 * token; administrators read its status, search the stored events, list hits and rule counts, run
 * retro-hunts and lift blocks.
 */
import {
  RuleCount,
  WatchBlockView,
  WatchEventPage,
  WatchHitPage,
  WatchHitsQuery,
  WatchHuntRequest,
  WatchHuntResult,
  WatchIngestResult,
  WatchSearchQuery,
  WatchStatusView,
} from '@rempart/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { WatchService } from './watch.service.js';

/** A shipper's batch: thousands of lines of a few hundred bytes. */
const INGEST_MAX_BYTES = 16 * 1024 * 1024;

const actorOf = (request: FastifyRequest) => {
  const auth = requireAuth(request, 'admin');
  return { actor: { id: auth.agent.id, email: auth.agent.email }, ip: requestContext(request).ip };
};

const Window = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export async function watchRoutes(app: FastifyInstance, watch: WatchService): Promise<void> {
  const tags = ['server watch'];
  // Shippers send the lines as they are (application/x-ndjson, text/plain…): the body is kept as
  // bytes and split into lines by the handler, whatever its declared type.
  await app.register((scoped, _options, done) => {
    scoped.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: INGEST_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    scoped.withTypeProvider<ZodTypeProvider>().post(
      '/api/watch/ingest',
      {
        bodyLimit: INGEST_MAX_BYTES,
        schema: {
          tags,
          summary:
            'Log lines as JSON lines, one object per line (Authorization: Bearer <REMPART_WATCH_INGEST_TOKEN>)',
          description:
            'Lines that are not JSON objects are rejected by number and the others queued; when the queue has no room for them none is queued and the answer is 503 with Retry-After.',
          response: { 200: WatchIngestResult, ...errorResponses },
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        watch.checkIngestToken(request.headers.authorization);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = watch.ingestJsonLines(body, requestContext(request).ip);
        if (result.full) {
          void reply.header('retry-after', String(result.retryAfterSeconds ?? 5));
          return reply.code(503).send({
            error: {
              code: 'service_unavailable',
              message: 'The server watch is behind: nothing was queued, send the same lines again later.',
            },
          });
        }
        return { accepted: result.accepted, rejected: result.rejected, errors: result.errors };
      },
    );
    done();
  });

  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/watch/status',
    {
      schema: {
        tags,
        summary: 'What the watch receives and runs: receivers, queue, rules, counts',
        response: { 200: WatchStatusView, ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return watch.status();
    },
  );

  r.get(
    '/api/watch/events',
    {
      schema: {
        tags,
        summary: 'Stored events matching a search, newest first',
        querystring: WatchSearchQuery,
        response: { 200: WatchEventPage, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return watch.search(request.query);
    },
  );

  r.get(
    '/api/watch/hits',
    {
      schema: {
        tags,
        summary: "Rule hits, newest first: the live watch's, or a retro-hunt's",
        querystring: WatchHitsQuery,
        response: { 200: WatchHitPage, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return watch.hits(request.query);
    },
  );

  r.get(
    '/api/watch/rules',
    {
      schema: {
        tags,
        summary: "Each rule's hits over a window (the last 24 hours by default)",
        querystring: Window,
        response: { 200: z.object({ rules: z.array(RuleCount) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { rules: await watch.ruleCounts(request.query) };
    },
  );

  r.post(
    '/api/watch/hunts',
    {
      schema: {
        tags,
        summary: 'Runs rules over the stored events of a time range (retro-hunt)',
        body: WatchHuntRequest,
        response: { 200: WatchHuntResult, ...errorResponses },
      },
    },
    async (request) => {
      const { actor, ip } = actorOf(request);
      return watch.hunt(actor, request.body, ip);
    },
  );

  r.get(
    '/api/watch/blocks',
    {
      schema: {
        tags,
        summary: 'Addresses blocked by responses (or that would be, in dry-run)',
        response: { 200: z.object({ blocks: z.array(WatchBlockView) }), ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return { blocks: watch.blocks() };
    },
  );

  r.delete(
    '/api/watch/blocks/:address',
    {
      schema: {
        tags,
        summary: 'Lifts a block',
        params: z.object({ address: z.string().min(2).max(64) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      await watch.unblock(actor, request.params.address, ip);
      return reply.code(204).send(null);
    },
  );
}
