/** Administration of agents: invite, disable, enable, unlock, reset MFA. */
import { Agent, EnrolmentLink, IdParam, InviteAgentRequest } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { IdentityService } from './identity.service.js';

const Empty = z.object({}).strict().optional();
const AgentReply = z.object({ agent: Agent });

export function adminRoutes(app: FastifyInstance, identity: IdentityService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['administration'];

  r.get(
    '/api/admin/agents',
    {
      schema: {
        tags,
        summary: 'All agents',
        response: { 200: z.object({ agents: z.array(Agent) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { agents: await identity.listAgents() };
    },
  );

  r.post(
    '/api/admin/agents',
    {
      schema: {
        tags,
        summary: 'Invite an agent: returns a single-use enrolment link valid 24 h',
        body: InviteAgentRequest,
        response: { 201: EnrolmentLink, ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request, 'admin');
      const link = await identity.inviteAgent(auth.agent, request.body, requestContext(request));
      return reply.status(201).send(link);
    },
  );

  const action = (
    path: string,
    summary: string,
    run: (
      auth: ReturnType<typeof requireAuth>,
      id: string,
      ctx: ReturnType<typeof requestContext>,
    ) => Promise<z.infer<typeof Agent>>,
  ) =>
    r.post(
      `/api/admin/agents/:id/${path}`,
      {
        schema: {
          tags,
          summary,
          params: IdParam,
          body: Empty,
          response: { 200: AgentReply, ...errorResponses },
        },
      },
      async (request) => {
        const auth = requireAuth(request, 'admin');
        return { agent: await run(auth, request.params.id, requestContext(request)) };
      },
    );
  action('disable', 'Disable an agent: every session of theirs ends at once', (auth, id, ctx) =>
    identity.setDisabled(auth.agent, id, true, ctx),
  );
  action('enable', 'Enable a disabled agent', (auth, id, ctx) =>
    identity.setDisabled(auth.agent, id, false, ctx),
  );
  action('unlock', 'Lift a sign-in lock', (auth, id, ctx) => identity.unlock(auth.agent, id, ctx));

  r.post(
    '/api/admin/agents/:id/reset-mfa',
    {
      schema: {
        tags,
        summary: "Reset an agent's factors and password (needs your own recent MFA check)",
        params: IdParam,
        body: Empty,
        response: { 200: EnrolmentLink, ...errorResponses },
      },
    },
    async (request) =>
      identity.resetMfa(requireAuth(request, 'admin'), request.params.id, requestContext(request)),
  );

  r.post(
    '/api/admin/agents/:id/enrolment-link',
    {
      schema: {
        tags,
        summary: 'Issue a new enrolment link for an agent who has not enrolled',
        params: IdParam,
        body: Empty,
        response: { 200: EnrolmentLink, ...errorResponses },
      },
    },
    async (request) =>
      identity.reissueEnrolmentLink(
        requireAuth(request, 'admin').agent,
        request.params.id,
        requestContext(request),
      ),
  );
}
