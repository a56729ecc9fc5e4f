import { Alert, AlertListQuery, IdParam, IdentityError } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit.service.js';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { AlertService } from './alert.service.js';

export function alertRoutes(
  app: FastifyInstance,
  alerts: AlertService,
  audit: AuditLog,
  publicOrigin: string,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['alerts'];

  r.get(
    '/api/alerts',
    {
      schema: {
        tags,
        summary: 'Alerts, newest first',
        querystring: AlertListQuery,
        response: { 200: z.object({ alerts: z.array(Alert) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { alerts: await alerts.list(request.query.status, request.query.limit) };
    },
  );

  r.post(
    '/api/alerts/:id/ack',
    {
      schema: {
        tags,
        summary: 'Acknowledge an alert',
        params: IdParam,
        body: z.object({}).strict().optional(),
        response: { 200: z.object({ alert: Alert }), ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'admin');
      const alert = await alerts.acknowledge(request.params.id, auth.agent.email);
      await audit.record({
        action: 'alert.acknowledged',
        outcome: 'success',
        actor: { id: auth.agent.id, email: auth.agent.email },
        targetId: alert.id,
        ip: requestContext(request).ip,
      });
      return { alert };
    },
  );

  // The live feed. Browsers send cookies on WebSocket upgrades, so the Origin is checked
  // to refuse cross-site WebSocket hijacking.
  app.get('/api/alerts/live', { websocket: true, schema: { hide: true } }, (socket, request) => {
    try {
      if (request.headers.origin !== undefined && request.headers.origin !== publicOrigin)
        throw IdentityError.csrf();
      requireAuth(request, 'admin');
    } catch (error) {
      const code = error instanceof IdentityError ? error.code : 'internal_error';
      socket.close(4401, code);
      return;
    }
    const stop = alerts.subscribe((message) => socket.send(JSON.stringify(message)));
    socket.on('close', stop);
    socket.on('error', stop);
  });
}
