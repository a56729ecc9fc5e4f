/** Meetings over HTTP: scheduling, the admission check a page makes first, and host actions. */
import {
  AdmissionCheck,
  AgentRef,
  CreateMeetingRequest,
  IdParam,
  Meeting,
  GuestStartRequest,
  GuestStartResponse,
  GuestVerifyRequest,
  GuestVerifyResponse,
  MeetingLinkId,
  RempartError,
} from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import { agentRef, type MeetingsService } from './meetings.service.js';
import { guestAwareRequester, guestCookieName, type LiveMeetings } from './signalling.js';

const MeetingReply = z.object({ meeting: Meeting });
const Empty = z.object({}).strict().optional();

export function meetingRoutes(app: FastifyInstance, meetings: MeetingsService, live: LiveMeetings): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['meetings'];

  r.post(
    '/api/meetings',
    {
      schema: {
        tags,
        summary: 'Schedule a meeting (hosts and administrators)',
        body: CreateMeetingRequest,
        response: { 201: MeetingReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request, 'full');
      const meeting = await meetings.create(auth, request.body, requestContext(request));
      return reply.status(201).send({ meeting });
    },
  );

  r.get(
    '/api/meetings',
    {
      schema: {
        tags,
        summary: 'Meetings I host or am invited to',
        response: { 200: z.object({ meetings: z.array(Meeting) }), ...errorResponses },
      },
    },
    async (request) => ({ meetings: await meetings.list(requireAuth(request, 'full')) }),
  );

  r.get(
    '/api/meetings/:id',
    {
      schema: {
        tags,
        summary: 'One meeting',
        params: IdParam,
        response: { 200: MeetingReply, ...errorResponses },
      },
    },
    async (request) => ({ meeting: await meetings.get(requireAuth(request, 'full'), request.params.id) }),
  );

  r.post(
    '/api/meetings/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Give the meeting a new link; the old one stops working at once',
        params: IdParam,
        body: Empty,
        response: { 200: MeetingReply, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      await meetings.requireHosted(auth, request.params.id);
      const record = await meetings.rotateLink(
        { id: auth.agent.id, email: auth.agent.email },
        request.params.id,
        requestContext(request).ip,
        'host',
      );
      live.roomOf(record.row.id)?.refresh(record);
      return { meeting: await meetings.view(record) };
    },
  );

  r.post(
    '/api/meetings/:id/end',
    {
      schema: {
        tags,
        summary: 'End the meeting for everyone',
        params: IdParam,
        body: Empty,
        response: { 200: MeetingReply, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      const record = await meetings.requireHosted(auth, request.params.id);
      const actor = { id: auth.agent.id, email: auth.agent.email };
      const room = live.roomOf(record.row.id);
      if (room) await room.end(auth.agent.displayName, actor, requestContext(request).ip);
      else await meetings.end(record.row.id);
      return { meeting: await meetings.get(auth, record.row.id) };
    },
  );

  r.get(
    '/api/m/:linkId',
    {
      schema: {
        tags,
        summary: 'What would happen if I joined this meeting now',
        params: z.strictObject({ linkId: MeetingLinkId }),
        response: { 200: AdmissionCheck, ...errorResponses },
      },
    },
    async (request) => {
      const ctx = requestContext(request);
      const requester = guestAwareRequester(request, live.deps.guests, live.secureCookies);
      const attempt = await meetings.attempt(request.params.linkId, requester, live.standingOf, {
        ...ctx,
        via: 'http',
      });
      const { decision } = attempt;
      if (attempt.record && decision.outcome === 'refuse') {
        live.notifyHosts(attempt);
        await meetings.alertRefused(attempt, ctx.ip);
      } else if (attempt.record && decision.outcome === 'step_up') live.notifyHosts(attempt);
      return {
        outcome: decision.outcome,
        reason: decision.reason,
        meeting: attempt.record && decision.outcome !== 'refuse' ? meetings.preview(attempt.record) : null,
        guestsWelcome:
          decision.reason === 'unauthenticated' &&
          live.deps.guests.enabled &&
          attempt.record !== undefined &&
          attempt.record.row.guests &&
          (attempt.record.row.classification === 'public' ||
            attempt.record.row.classification === 'internal'),
      };
    },
  );

  r.post(
    '/api/m/:linkId/guest',
    {
      schema: {
        tags,
        summary: 'As an external guest, ask for a one-time code by email',
        params: z.strictObject({ linkId: MeetingLinkId }),
        body: GuestStartRequest,
        response: { 202: GuestStartResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const started = await live.deps.guests.start(
        request.params.linkId,
        request.body,
        requestContext(request).ip,
      );
      return reply.status(202).send(started);
    },
  );

  r.post(
    '/api/m/:linkId/guest/verify',
    {
      schema: {
        tags,
        summary: 'Check the emailed code; the guest pass cookie then opens the lobby',
        params: z.strictObject({ linkId: MeetingLinkId }),
        body: GuestVerifyRequest,
        response: { 200: GuestVerifyResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { pass, token } = await live.deps.guests.verify(
        request.body.challengeId,
        request.body.code,
        requestContext(request).ip,
      );
      const record = await meetings.byId(pass.meetingId);
      const maxAge = Math.max(60, Math.floor(((record?.row.endsAt.getTime() ?? 0) - Date.now()) / 1000));
      void reply.setCookie(guestCookieName(live.secureCookies), token, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: live.secureCookies,
        maxAge,
      });
      return { guest: { displayName: pass.displayName, email: pass.email } };
    },
  );

  r.get(
    '/api/directory/agents',
    {
      schema: {
        tags,
        summary: 'Active agents to invite (hosts and administrators)',
        querystring: z.strictObject({ q: z.string().max(120).default('') }),
        response: { 200: z.object({ agents: z.array(AgentRef) }), ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      if (auth.agent.role === 'agent') throw RempartError.forbidden('Hosts and administrators only.');
      return { agents: (await meetings.directory(request.query.q)).map(agentRef) };
    },
  );

  r.get(
    '/api/directory/units',
    {
      schema: {
        tags,
        summary: 'Organisational units to invite as a whole (hosts and administrators)',
        response: { 200: z.object({ units: z.array(z.string()) }), ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'full');
      if (auth.agent.role === 'agent') throw RempartError.forbidden('Hosts and administrators only.');
      return { units: await meetings.units() };
    },
  );
}
