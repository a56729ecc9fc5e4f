/**
 * Authentication at the HTTP edge: the session cookie, the anti-forgery check on
 * every state-changing request, and per-route access levels.
 */
import { IdentityError } from '@rempart/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  Authenticated,
  IdentityService,
  RequestContext,
  SessionStep,
} from '../identity/identity.service.js';
import { SESSION_ABSOLUTE_MS } from '../identity/identity.service.js';
import { safeEqual } from '../identity/secrets.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | undefined;
    /** The request carried a session cookie that no longer opens a session. */
    sessionEnded: boolean;
  }
}

export interface AuthOptions {
  identity: IdentityService;
  /** Under TLS the cookie is Secure and uses the `__Host-` prefix (RFC 6265bis §4.1.3.2). */
  secure: boolean;
  publicOrigin: string;
}

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function cookieName(secure: boolean): string {
  return secure ? '__Host-rempart_session' : 'rempart_session';
}

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  // An upgraded socket injected in-process has no peer address; say so rather than carry undefined.
  const ip = (request.ip as string | undefined) ?? 'unknown';
  return { ip, userAgent: typeof ua === 'string' ? ua.slice(0, 300) : '' };
}

export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const name = cookieName(options.secure);
  app.decorateRequest('auth', undefined);
  app.decorateRequest('sessionEnded', false);

  app.addHook('onRequest', async (request, reply) => {
    // The console's calls: its API, and the OpenID sign-in page's (under the provider's mount).
    if (!request.url.startsWith('/api/') && !request.url.startsWith('/oidc/interaction/')) return;
    const token = request.cookies[name];
    if (token) {
      request.auth = await options.identity.resolveSession(token);
      // A dead session's cookie is cleared so the browser stops sending it.
      if (!request.auth) {
        request.sessionEnded = true;
        clearSessionCookie(reply, options.secure);
      }
    }
    if (SAFE_METHODS.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== options.publicOrigin) throw IdentityError.csrf();
    if (request.auth) {
      const sent = request.headers[CSRF_HEADER];
      const expected = options.identity.csrfTokenFor(request.auth.session.id);
      if (typeof sent !== 'string' || !safeEqual(sent, expected)) throw IdentityError.csrf();
    }
  });
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  void reply.setCookie(cookieName(secure), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    maxAge: SESSION_ABSOLUTE_MS / 1000,
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  void reply.clearCookie(cookieName(secure), { path: '/', httpOnly: true, sameSite: 'strict', secure });
}

/** Applies a session step to the reply: the cookie changes whenever the token does. */
export function applyStep(reply: FastifyReply, step: SessionStep, secure: boolean) {
  if (step.token) setSessionCookie(reply, step.token, secure);
  return { next: step.next, session: step.state };
}

export type AccessLevel = 'session' | 'full' | 'admin';

/** The signed-in agent for a route of the given level; throws the matching 401/403 otherwise. */
export function requireAuth(request: FastifyRequest, level: AccessLevel): Authenticated {
  const auth = request.auth;
  if (!auth) throw IdentityError.unauthenticated();
  if (level === 'session') return auth;
  if (auth.session.stage === 'enrol') throw IdentityError.enrolmentRequired();
  if (auth.session.stage === 'mfa') throw IdentityError.mfaRequired();
  if (level === 'admin' && auth.agent.role !== 'admin') throw IdentityError.forbidden('Administrators only.');
  return auth;
}
