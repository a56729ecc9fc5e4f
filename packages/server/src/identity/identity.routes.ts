/** Sign-in, enrolment and the agent's own account. Thin: auth, validation, mapping. */
import {
  EnrolmentInfo,
  EnrolmentPasswordRequest,
  EnrolmentToken,
  FactorEnrolledResponse,
  IdParam,
  MeResponse,
  PasskeyBeginResponse,
  PasskeyFinishRequest,
  PasswordSignInRequest,
  RecoveryCodesResponse,
  RecoveryRequest,
  SessionInfo,
  SessionState,
  SignInStepResponse,
  TotpEnrolBeginResponse,
  TotpEnrolConfirmRequest,
  TotpRequest,
} from '@rempart/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  applyStep,
  clearSessionCookie,
  requestContext,
  requireAuth,
  setSessionCookie,
} from '../http/auth.js';
import { errorResponses } from '../http/openapi.js';
import type { IdentityService } from './identity.service.js';

const Empty = z.object({}).strict().optional();
const NoContent = z.null().describe('No content');

export function identityRoutes(app: FastifyInstance, identity: IdentityService, secure: boolean): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['identity'];

  r.get(
    '/api/session',
    { schema: { tags, summary: 'The current session, if any', response: { 200: SessionState } } },
    async (request) =>
      request.auth
        ? identity.sessionState(request.auth)
        : { authenticated: false as const, ...(request.sessionEnded && { ended: true }) },
  );

  r.get(
    '/api/enrolment/:token',
    {
      schema: {
        tags,
        summary: 'Check an enrolment link',
        params: z.strictObject({ token: EnrolmentToken }),
        response: { 200: EnrolmentInfo, ...errorResponses },
      },
    },
    async (request) => identity.enrolmentInfo(request.params.token),
  );

  r.post(
    '/api/enrolment/password',
    {
      schema: {
        tags,
        summary: 'Set the password from an enrolment link',
        body: EnrolmentPasswordRequest,
        response: { 200: SignInStepResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      applyStep(
        reply,
        await identity.setEnrolmentPassword(
          request.body.token,
          request.body.password,
          requestContext(request),
        ),
        secure,
      ),
  );

  r.post(
    '/api/auth/password',
    {
      schema: {
        tags,
        summary: 'First sign-in step: email and password',
        body: PasswordSignInRequest,
        response: { 200: SignInStepResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      applyStep(
        reply,
        await identity.passwordSignIn(request.body.email, request.body.password, requestContext(request)),
        secure,
      ),
  );

  r.post(
    '/api/auth/totp',
    {
      schema: {
        tags,
        summary: 'Second step or step-up with an authenticator code',
        body: TotpRequest,
        response: { 200: SignInStepResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      applyStep(
        reply,
        await identity.verifyTotp(
          requireAuth(request, 'session'),
          request.body.code,
          requestContext(request),
        ),
        secure,
      ),
  );

  r.post(
    '/api/auth/recovery',
    {
      schema: {
        tags,
        summary: 'Second step with a single-use recovery code',
        body: RecoveryRequest,
        response: { 200: SignInStepResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      applyStep(
        reply,
        await identity.verifyRecoveryCode(
          requireAuth(request, 'session'),
          request.body.code,
          requestContext(request),
        ),
        secure,
      ),
  );

  r.post(
    '/api/auth/webauthn/begin',
    {
      schema: {
        tags,
        summary: 'Start a passkey sign-in, second step or step-up',
        body: Empty,
        response: { 200: PasskeyBeginResponse, ...errorResponses },
      },
    },
    async (request) => identity.webauthnAuthBegin(request.auth),
  );

  r.post(
    '/api/auth/webauthn/finish',
    {
      schema: {
        tags,
        summary: 'Finish a passkey sign-in, second step or step-up',
        body: PasskeyFinishRequest,
        response: { 200: SignInStepResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      applyStep(
        reply,
        await identity.webauthnAuthFinish(
          request.auth,
          request.body.challengeId,
          request.body.response,
          requestContext(request),
        ),
        secure,
      ),
  );

  r.post(
    '/api/auth/sign-out',
    { schema: { tags, summary: 'Sign out', body: Empty, response: { 204: NoContent } } },
    async (request, reply) => {
      if (request.auth) await identity.signOut(request.auth, requestContext(request));
      clearSessionCookie(reply, secure);
      return reply.status(204).send(null);
    },
  );

  // ---- the agent's own account ----

  r.get(
    '/api/me',
    { schema: { tags, summary: 'My profile and factors', response: { 200: MeResponse, ...errorResponses } } },
    async (request) => identity.me(requireAuth(request, 'full')),
  );

  r.get(
    '/api/me/sessions',
    {
      schema: {
        tags,
        summary: 'My open sessions',
        response: { 200: z.object({ sessions: z.array(SessionInfo) }), ...errorResponses },
      },
    },
    async (request) => ({ sessions: await identity.listSessions(requireAuth(request, 'full')) }),
  );

  r.delete(
    '/api/me/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Revoke one of my sessions',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await identity.revokeSession(requireAuth(request, 'full'), request.params.id, requestContext(request));
      return reply.status(204).send(null);
    },
  );

  r.post(
    '/api/me/factors/totp/begin',
    {
      schema: {
        tags,
        summary: 'Start enrolling an authenticator app',
        body: Empty,
        response: { 200: TotpEnrolBeginResponse, ...errorResponses },
      },
    },
    async (request) => identity.totpBegin(requireAuth(request, 'session')),
  );

  r.post(
    '/api/me/factors/totp/confirm',
    {
      schema: {
        tags,
        summary: 'Confirm an authenticator app with a code',
        body: TotpEnrolConfirmRequest,
        response: { 200: FactorEnrolledResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await identity.totpConfirm(
        requireAuth(request, 'session'),
        request.body.code,
        request.body.label,
        requestContext(request),
      );
      return factorReply(reply, result, secure);
    },
  );

  r.post(
    '/api/me/factors/webauthn/begin',
    {
      schema: {
        tags,
        summary: 'Start registering a passkey or security key',
        body: Empty,
        response: { 200: PasskeyBeginResponse, ...errorResponses },
      },
    },
    async (request) => identity.webauthnRegisterBegin(requireAuth(request, 'session')),
  );

  r.post(
    '/api/me/factors/webauthn/finish',
    {
      schema: {
        tags,
        summary: 'Finish registering a passkey or security key',
        body: PasskeyFinishRequest,
        response: { 200: FactorEnrolledResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { challengeId, response, label } = request.body;
      const result = await identity.webauthnRegisterFinish(
        requireAuth(request, 'session'),
        challengeId,
        response,
        label,
        requestContext(request),
      );
      return factorReply(reply, result, secure);
    },
  );

  r.delete(
    '/api/me/factors/:id',
    {
      schema: {
        tags,
        summary: 'Remove one of my factors (needs a recent MFA check)',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await identity.removeFactor(requireAuth(request, 'full'), request.params.id, requestContext(request));
      return reply.status(204).send(null);
    },
  );

  r.post(
    '/api/me/recovery-codes',
    {
      schema: {
        tags,
        summary: 'Replace my recovery codes (needs a recent MFA check)',
        body: Empty,
        response: { 200: RecoveryCodesResponse, ...errorResponses },
      },
    },
    async (request) => ({
      recoveryCodes: await identity.regenerateRecoveryCodes(
        requireAuth(request, 'full'),
        requestContext(request),
      ),
    }),
  );
}

function factorReply(
  reply: FastifyReply,
  result: {
    factor: z.infer<typeof FactorEnrolledResponse>['factor'];
    recoveryCodes?: string[];
    token?: string;
  },
  secure: boolean,
) {
  if (result.token) setSessionCookie(reply, result.token, secure);
  return { factor: result.factor, ...(result.recoveryCodes ? { recoveryCodes: result.recoveryCodes } : {}) };
}
