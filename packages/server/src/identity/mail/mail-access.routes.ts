/**
 * Mail access: an agent's per-device mail passwords, an administrator's view and revocation of
 * anyone's, and the endpoint the institution's mail servers ask to check a login.
 */
import {
  IdParam,
  MailAuthRequest,
  MailAuthResponse,
  MailPassword,
  MailPasswordCreated,
  MailPasswordRequest,
  MailPasswordsResponse,
} from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../../http/auth.js';
import { errorResponses } from '../../http/openapi.js';
import type { MailAccessService } from './mail-access.service.js';

const MailPasswordReply = z.object({ mailPassword: MailPassword });

export function mailAccessRoutes(app: FastifyInstance, mail: MailAccessService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['mail access'];

  r.get(
    '/api/account/mail-passwords',
    {
      schema: {
        tags,
        summary: "The signed-in agent's mail passwords, with each device's last use and address",
        response: { 200: MailPasswordsResponse, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      return { mailPasswords: await mail.list(auth.agent.id) };
    },
  );

  r.post(
    '/api/account/mail-passwords',
    {
      schema: {
        tags,
        summary: 'A mail password for one device (needs an MFA check of the last 10 minutes); shown once',
        body: MailPasswordRequest,
        response: { 201: MailPasswordCreated, ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request, 'full');
      return reply.status(201).send(await mail.create(auth, request.body, requestContext(request)));
    },
  );

  r.delete(
    '/api/account/mail-passwords/:id',
    {
      schema: {
        tags,
        summary: 'Revokes one of the agent’s mail passwords: the device’s next login fails',
        params: IdParam,
        response: { 200: MailPasswordReply, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      return { mailPassword: await mail.revoke(auth.agent, request.params.id, requestContext(request)) };
    },
  );

  r.get(
    '/api/admin/agents/:id/mail-passwords',
    {
      schema: {
        tags,
        summary: "An agent's mail passwords: which devices read their mail, from where",
        params: IdParam,
        response: { 200: MailPasswordsResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { mailPasswords: await mail.list(request.params.id) };
    },
  );

  r.delete(
    '/api/admin/mail-passwords/:id',
    {
      schema: {
        tags,
        summary: "Revokes any agent's mail password",
        params: IdParam,
        response: { 200: MailPasswordReply, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'admin');
      return { mailPassword: await mail.revoke(auth.agent, request.params.id, requestContext(request)) };
    },
  );

  r.post(
    '/api/mail/auth',
    {
      schema: {
        tags,
        summary: 'A mail server checks a login (Authorization: Bearer <REMPART_MAIL_GATEWAY_TOKEN>)',
        body: MailAuthRequest,
        response: { 200: MailAuthResponse, ...errorResponses },
      },
      // The token first: a stranger learns nothing, not even whether a body is well formed.
      onRequest: (request, _reply, done) => {
        try {
          mail.checkGatewayToken(request.headers.authorization);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    },
    async (request) => {
      return mail.check(request.body);
    },
  );
}
