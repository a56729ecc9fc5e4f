/**
 * `POST /api/leakcheck`: the image's bytes as the body, its type as the Content-Type. The answer
 * lists what the image gives away and, unless `?redact=false`, carries the redacted copy.
 */
import {
  LEAKCHECK_MAX_BYTES,
  LeakCheckQuery,
  LeakCheckResult,
  RempartError,
  leakcheckFormats,
} from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { LeakCheckService } from './leakcheck.service.js';

const accepted = new Set([
  ...leakcheckFormats.map((f) => `image/${f}`),
  'image/jpg',
  'application/octet-stream',
]);

export async function leakcheckRoutes(app: FastifyInstance, leakcheck: LeakCheckService): Promise<void> {
  await app.register((scoped, _options, done) => {
    // The body is the file itself, whatever its declared type; the handler checks the type.
    scoped.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: LEAKCHECK_MAX_BYTES },
      (_request, body, next) => next(null, body),
    );
    const r = scoped.withTypeProvider<ZodTypeProvider>();
    r.post(
      '/api/leakcheck',
      {
        bodyLimit: LEAKCHECK_MAX_BYTES,
        schema: {
          tags: ['leakcheck'],
          summary: 'Check an image before posting it: what it gives away, and a redacted copy',
          description:
            'Send the image bytes as the body with their type as Content-Type (image/jpeg, image/png, ' +
            `image/webp, image/gif, image/tiff, image/avif or application/octet-stream), at most ${
              LEAKCHECK_MAX_BYTES / 1024 / 1024
            } MB. A link of an open Rempart meeting found in it is replaced at once.`,
          querystring: LeakCheckQuery,
          response: { 200: LeakCheckResult, ...errorResponses },
        },
      },
      async (request) => {
        const auth = requireAuth(request, 'full');
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!accepted.has(type) || !Buffer.isBuffer(request.body)) {
          throw new RempartError(
            'unsupported_media_type',
            'Send the image itself as the request body, with an image Content-Type (image/jpeg, image/png…).',
          );
        }
        return leakcheck.check({ id: auth.agent.id, email: auth.agent.email }, request.body, {
          redact: request.query.redact === 'true',
          ip: requestContext(request).ip,
        });
      },
    );
    done();
  });
}
