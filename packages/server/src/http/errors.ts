/**
 * The HTTP edge's error mapping: every failure leaves as `{ error: { code, message } }`
 * with a stable code, never a stack trace.
 */
import { RempartError, isRempartError, type ErrorCode } from '@rempart/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

const fastifyCodes: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Send the request body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_request', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'The request body is not valid JSON.'],
  FST_ERR_RATE_LIMIT_EXCEEDED: ['rate_limited', 'Too many requests. Slow down.'],
};

export function toRempartError(error: unknown): RempartError {
  if (isRempartError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      where: error.validationContext ?? 'body',
      path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: v.message ?? 'invalid',
    }));
    return new RempartError('validation_failed', 'The request is not valid.', { details: { issues } });
  }
  const fe = error as Partial<FastifyError> | undefined;
  const mapped = fe?.code ? fastifyCodes[fe.code] : undefined;
  if (mapped) return new RempartError(mapped[0], mapped[1], { cause: error });
  if (error instanceof SyntaxError && fe?.statusCode === 400) {
    return new RempartError('invalid_json', 'The request body is not valid JSON.', { cause: error });
  }
  if (fe?.statusCode === 429) return new RempartError('rate_limited', 'Too many requests. Slow down.');
  if (fe?.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new RempartError('bad_request', 'The request could not be understood.', { cause: error });
  }
  return RempartError.internal(error);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const e = toRempartError(error);
  if (e.reportable) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ code: e.code }, 'request refused');
  const retryAfter = (e.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  return reply.status(e.status).type('application/json').send(e.toBody());
}
