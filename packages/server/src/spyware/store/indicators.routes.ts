/**
 * The indicator store over HTTP (administrators only): the sets, a bundle's import as the raw
 * request body, a set's removal, and the retro-hunts imports start.
 */
import { IndicatorImport, IndicatorImportQuery, IndicatorSet, RempartError, RetroHunt } from '@rempart/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../../http/auth.js';
import { errorResponses } from '../../http/openapi.js';
import type { IndicatorStore } from './indicator-store.service.js';

/** The largest bundle accepted: the biggest published ones weigh a few megabytes. */
export const INDICATOR_BUNDLE_MAX_BYTES = 64 * 1024 * 1024;

/** The media types a bundle may be sent as (STIX 2.1 §1.6 registers application/stix+json). */
const BUNDLE_TYPES = ['application/json', 'application/stix+json', 'application/octet-stream'];

const actorOf = (request: FastifyRequest) => {
  const auth = requireAuth(request, 'admin');
  return { actor: { id: auth.agent.id, email: auth.agent.email }, ip: requestContext(request).ip };
};

export async function indicatorRoutes(app: FastifyInstance, store: IndicatorStore): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['spyware'];

  r.get(
    '/api/spyware/indicator-sets',
    {
      schema: {
        tags,
        summary: 'The indicator sets: the shipped STIX bundles and those imported',
        response: { 200: z.array(IndicatorSet), ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return store.list();
    },
  );

  // The bundle is the body as sent: its bytes are what is stored and hashed, not a re-serialised
  // parse of them. Only this route reads JSON bodies this way, and up to a larger limit.
  await app.register((scoped, _options, done) => {
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser(
      BUNDLE_TYPES,
      { parseAs: 'buffer', bodyLimit: INDICATOR_BUNDLE_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    scoped.withTypeProvider<ZodTypeProvider>().post(
      '/api/spyware/indicator-sets',
      {
        bodyLimit: INDICATOR_BUNDLE_MAX_BYTES,
        // Checked before the body is read: only an administrator may make the server take 64 MB.
        onRequest: (request, _reply, done) => {
          try {
            requireAuth(request, 'admin');
            done();
          } catch (error) {
            done(error as Error);
          }
        },
        schema: {
          tags,
          summary:
            'Import a STIX 2.1 bundle (the raw body: application/json, application/stix+json or application/octet-stream); the set of that name is replaced, and a retro-hunt starts',
          querystring: IndicatorImportQuery,
          response: { 201: IndicatorImport, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { actor, ip } = actorOf(request);
        if (!Buffer.isBuffer(request.body))
          throw new RempartError(
            'unsupported_media_type',
            `Send the bundle as the request body, typed ${BUNDLE_TYPES.join(', ')}.`,
          );
        const result = await store.import(request.query.name, request.body, 'upload', actor, ip);
        return reply.code(201).send(result);
      },
    );
    done();
  });

  r.delete(
    '/api/spyware/indicator-sets/:id',
    {
      schema: {
        tags,
        summary: 'Remove an imported indicator set (a shipped one cannot be)',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { actor, ip } = actorOf(request);
      await store.remove(request.params.id, actor, ip);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/spyware/retro-hunts',
    {
      schema: {
        tags,
        summary: 'The latest retro-hunts (new indicators matched against the DNS log and stored scans)',
        response: { 200: z.array(RetroHunt), ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return store.retroHunts();
    },
  );

  r.get(
    '/api/spyware/retro-hunts/:id',
    {
      schema: {
        tags,
        summary: 'One retro-hunt, with its progress and hits',
        params: z.object({ id: z.uuid() }),
        response: { 200: RetroHunt, ...errorResponses },
      },
    },
    (request) => {
      requireAuth(request, 'admin');
      return store.retroHunt(request.params.id);
    },
  );
}
