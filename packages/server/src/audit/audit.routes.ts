import { AuditEntry, AuditListQuery, AuditVerifyResult } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { AuditService } from './audit.service.js';

export function auditRoutes(app: FastifyInstance, audit: AuditService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['audit'];
  r.get(
    '/api/audit',
    {
      schema: {
        tags,
        summary: 'Audit log, newest first',
        querystring: AuditListQuery,
        response: { 200: z.object({ entries: z.array(AuditEntry) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { entries: await audit.list(request.query.limit, request.query.before) };
    },
  );
  r.get(
    '/api/audit/verify',
    {
      schema: {
        tags,
        summary: 'Verify the hash chain of the whole audit log',
        response: { 200: AuditVerifyResult, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return audit.verify();
    },
  );
}
