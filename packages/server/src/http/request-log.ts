/** One log line per request, at completion, with secrets in paths redacted. */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { redactUrl } from '../logger.js';

export class RequestLogController extends LogController {
  override incomingRequest(): void {
    // Logged once, with its outcome, in requestCompleted.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        ip: request.ip,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(error ? { err: error } : {}),
      },
      'request',
    );
  }
}
