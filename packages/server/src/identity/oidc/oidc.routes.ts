/**
 * The OpenID provider under `/oidc` (discovery, authorization, token, keys, userinfo, logout: all
 * oidc-provider's), the console's sign-in page for its requests, and the administration of
 * relying parties and signing keys.
 */
import {
  IdentityError,
  OidcClient,
  OidcClientCreated,
  OidcClientIdParam,
  OidcClientRequest,
  OidcInteraction,
  OidcInteractionDone,
  OidcInteractionParam,
  OidcKeysResponse,
} from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requestContext, requireAuth } from '../../http/auth.js';
import { errorResponses } from '../../http/openapi.js';
import type { OidcService } from './oidc.service.js';

export const OIDC_MOUNT = '/oidc';
const Empty = z.object({}).strict().optional();

export async function oidcRoutes(app: FastifyInstance, oidc: OidcService): Promise<void> {
  // oidc-provider reads its own form and JSON bodies: in this scope Fastify leaves them unread.
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: `${OIDC_MOUNT}/*`,
      schema: { hide: true },
      handler: (request, reply) => {
        reply.hijack();
        oidc.handle(request.raw, reply.raw, OIDC_MOUNT);
      },
    });
    done();
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['single sign-on'];

  // The sign-in page itself is the console's (its not-found handler serves the application).
  app.get(`${OIDC_MOUNT}/interaction/:uid`, { schema: { hide: true } }, (_request, reply) =>
    reply.callNotFound(),
  );

  r.get(
    `${OIDC_MOUNT}/interaction/:uid/details`,
    {
      schema: {
        tags,
        summary: 'The pending sign-in request of a relying party (read by the console)',
        params: OidcInteractionParam,
        response: { 200: OidcInteraction, ...errorResponses },
      },
    },
    async (request, res) => {
      const found = await oidc.interaction(request.raw, res.raw);
      if (found.uid !== request.params.uid) throw IdentityError.interactionInvalid();
      return found;
    },
  );

  r.post(
    `${OIDC_MOUNT}/interaction/:uid/complete`,
    {
      schema: {
        tags,
        summary:
          'Signs the agent in to the relying party: needs a full session and a recent enough MFA check',
        params: OidcInteractionParam,
        body: Empty,
        response: { 200: OidcInteractionDone, ...errorResponses },
      },
    },
    async (request, res) => {
      const auth = requireAuth(request, 'full');
      // oidc-provider sets its resume cookie on the raw response; Fastify's headers join it.
      return oidc.complete(request.raw, res.raw, auth, requestContext(request));
    },
  );

  r.post(
    `${OIDC_MOUNT}/interaction/:uid/abort`,
    {
      schema: {
        tags,
        summary: 'Declines the sign-in: the relying party is told access_denied',
        params: OidcInteractionParam,
        body: Empty,
        response: { 200: OidcInteractionDone, ...errorResponses },
      },
    },
    async (request, res) => oidc.abort(request.raw, res.raw, request.auth, requestContext(request)),
  );

  // ---- administration ----

  r.get(
    '/api/admin/oidc/clients',
    {
      schema: {
        tags,
        summary: 'Registered relying parties',
        response: { 200: z.object({ clients: z.array(OidcClient) }), ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { clients: await oidc.listClients() };
    },
  );

  r.post(
    '/api/admin/oidc/clients',
    {
      schema: {
        tags,
        summary: 'Registers a relying party (needs a recent MFA check); its secret is shown once',
        body: OidcClientRequest,
        response: { 201: OidcClientCreated, ...errorResponses },
      },
    },
    async (request, res) => {
      const auth = requireAuth(request, 'admin');
      return res.status(201).send(await oidc.createClient(auth, request.body, requestContext(request)));
    },
  );

  r.put(
    '/api/admin/oidc/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Changes a relying party (needs a recent MFA check)',
        params: OidcClientIdParam,
        body: OidcClientRequest,
        response: { 200: z.object({ client: OidcClient }), ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'admin');
      const client = await oidc.updateClient(
        auth,
        request.params.clientId,
        request.body,
        requestContext(request),
      );
      return { client };
    },
  );

  r.post(
    '/api/admin/oidc/clients/:clientId/secret',
    {
      schema: {
        tags,
        summary:
          'A new secret for a confidential client (needs a recent MFA check); the old one stops working',
        params: OidcClientIdParam,
        body: Empty,
        response: { 200: OidcClientCreated, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'admin');
      return oidc.newClientSecret(auth, request.params.clientId, requestContext(request));
    },
  );

  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    r.post(
      `/api/admin/oidc/clients/:clientId/${path}`,
      {
        schema: {
          tags,
          summary: disabled
            ? 'Disables a relying party: no sign-in, token or refresh'
            : 'Enables a relying party again',
          params: OidcClientIdParam,
          body: Empty,
          response: { 200: z.object({ client: OidcClient }), ...errorResponses },
        },
      },
      async (request) => {
        const auth = requireAuth(request, 'admin');
        const client = await oidc.setClientDisabled(
          auth,
          request.params.clientId,
          disabled,
          requestContext(request),
        );
        return { client };
      },
    );
  }

  r.get(
    '/api/admin/oidc/keys',
    {
      schema: {
        tags,
        summary: 'The published signing keys',
        response: { 200: OidcKeysResponse, ...errorResponses },
      },
    },
    async (request) => {
      requireAuth(request, 'admin');
      return { keys: await oidc.listKeys() };
    },
  );

  r.post(
    '/api/admin/oidc/keys/rotate',
    {
      schema: {
        tags,
        summary: 'A new signing key; the previous one stays published for the tokens it signed',
        body: Empty,
        response: { 200: OidcKeysResponse, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request, 'admin');
      await oidc.rotateKeys(auth.agent, requestContext(request));
      return { keys: await oidc.listKeys() };
    },
  );
}
