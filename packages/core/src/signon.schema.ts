/**
 * One sign-in for the institution's other services: the OpenID Connect clients an administrator
 * registers, the per-device mail passwords an agent creates after an MFA check, and the request
 * a mail server (Dovecot, Postfix through Dovecot) sends to check a login.
 */
import { z } from 'zod';
import { DisplayName, Uuid } from './identity.schema.js';

/** The scopes a client may ask for; `rempart` adds unit, role and clearance, `mail` lets a token open a mailbox. */
export const oidcScopes = ['openid', 'profile', 'email', 'rempart', 'mail', 'offline_access'] as const;

/**
 * A redirect or logout address: absolute, no fragment (RFC 6749 §3.1.2), HTTPS unless it is this
 * machine (RFC 8252 §7.3 loopback redirects for native and test clients).
 */
export const ClientUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((value) => {
    // URL parsing is left to z.url(); here the scheme and host are read from its normal form.
    const match = /^(https?):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^/?#:]*)/i.exec(value);
    if (!match || value.includes('#')) return false;
    const [, scheme, host] = match;
    if (scheme?.toLowerCase() === 'https') return true;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  }, 'an absolute https:// address without a fragment (http:// only for localhost)');

export const OidcClientRequest = z.strictObject({
  name: DisplayName,
  redirectUris: z.array(ClientUrl).min(1).max(10),
  postLogoutRedirectUris: z.array(ClientUrl).max(10).default([]),
  backchannelLogoutUri: ClientUrl.nullable().default(null),
  /** The oldest MFA check accepted to sign in to this client, in seconds (0: a new check every time). */
  mfaMaxAge: z.number().int().min(0).max(43_200).nullable().default(null),
  /** A public client (a single-page or native app) has no secret and must use PKCE. */
  public: z.boolean().default(false),
});
export type OidcClientRequest = z.infer<typeof OidcClientRequest>;

export const OidcClient = z
  .object({
    id: z.string(),
    name: z.string(),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    backchannelLogoutUri: z.string().nullable(),
    mfaMaxAge: z.number().int().nullable(),
    public: z.boolean(),
    createdAt: z.iso.datetime(),
    disabledAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'OidcClient' });
export type OidcClient = z.infer<typeof OidcClient>;

/** A new client, or a new secret: the secret is shown this once. */
export const OidcClientCreated = z.object({ client: OidcClient, secret: z.string().nullable() });
export type OidcClientCreated = z.infer<typeof OidcClientCreated>;

export const OidcClientIdParam = z.strictObject({ clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });

export const OidcKey = z.object({
  kid: z.string(),
  createdAt: z.iso.datetime(),
  /** Set once a newer key signs; the key stays published for tokens it signed. */
  rotatedAt: z.iso.datetime().nullable(),
  signing: z.boolean(),
});
export const OidcKeysResponse = z.object({ keys: z.array(OidcKey) });

/** What the console shows on the OpenID sign-in page. */
export const OidcInteraction = z.object({
  uid: z.string(),
  client: z.object({ id: z.string(), name: z.string() }),
  /** The MFA check must be no older than this many seconds (the client's and the request's limit). */
  mfaMaxAge: z.number().int().nullable(),
  scopes: z.array(z.string()),
});
export type OidcInteraction = z.infer<typeof OidcInteraction>;

export const OidcInteractionParam = z.strictObject({ uid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
export const OidcInteractionDone = z.object({ redirectTo: z.string() });

// ---- mail ----

export const MAIL_PASSWORD_DEFAULT_DAYS = 180;

export const MailPasswordRequest = z.strictObject({
  /** The device that will use it: "Phone", "Thunderbird at home", … */
  device: DisplayName.pipe(z.string().max(60)),
  days: z.number().int().min(1).max(365).default(MAIL_PASSWORD_DEFAULT_DAYS),
});
export type MailPasswordRequest = z.infer<typeof MailPasswordRequest>;

export const MailPassword = z
  .object({
    id: Uuid,
    agentId: Uuid,
    device: z.string(),
    status: z.enum(['active', 'expired', 'revoked']),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable(),
    /** The address the device last read or sent mail from. */
    lastIp: z.string().nullable(),
    lastService: z.string().nullable(),
    uses: z.number().int(),
  })
  .meta({ id: 'MailPassword' });
export type MailPassword = z.infer<typeof MailPassword>;

export const MailPasswordCreated = z.object({
  mailPassword: MailPassword,
  /** Shown once: only a keyed hash is stored. */
  secret: z.string(),
});

export const MailPasswordsResponse = z.object({ mailPasswords: z.array(MailPassword) });

const shortText = (max: number) => z.string().max(max);

/** A mail server's question: may this user log in with this secret? (sent by the Lua passdb). */
export const MailAuthRequest = z.strictObject({
  user: shortText(320),
  /** An app password, or an OAuth access token for OAUTHBEARER / XOAUTH2. */
  password: shortText(8192),
  service: shortText(32),
  mechanism: shortText(32),
  remoteIp: shortText(64),
  localIp: shortText(64).default(''),
  session: shortText(128).default(''),
});
export type MailAuthRequest = z.infer<typeof MailAuthRequest>;

export const MailAuthResponse = z.object({ user: z.string() });
