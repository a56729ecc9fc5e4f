/**
 * The identity API's contract: request bodies, responses and the shapes shared
 * by the server, the web console and the CLI. Every HTTP body is parsed with
 * these schemas at the edge.
 */
import { z } from 'zod';
import { classifications } from './classification.js';

export const roles = ['admin', 'host', 'agent'] as const;
export const Role = z.enum(roles);
export type Role = z.infer<typeof Role>;

export const Clearance = z.enum(classifications);

export const agentStatuses = ['pending', 'active', 'disabled'] as const;
export const AgentStatus = z.enum(agentStatuses);
export type AgentStatus = z.infer<typeof AgentStatus>;

/** Email addresses are compared lower-cased; at most 254 octets (RFC 5321 §4.5.3.1.3). */
export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((e) => e.toLowerCase());

export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .refine((s) => !/[\p{Cc}]/u.test(s), 'control characters are not allowed');
export const Unit = z.string().trim().max(120).default('');

/** A password as typed; strength rules are applied by the identity service. */
export const Password = z.string().min(1).max(1024);

export const Uuid = z.uuid();

export const Factor = z
  .object({
    id: Uuid,
    kind: z.enum(['totp', 'webauthn']),
    label: z.string(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Factor' });
export type Factor = z.infer<typeof Factor>;

export const Agent = z
  .object({
    id: Uuid,
    email: z.string(),
    displayName: z.string(),
    unit: z.string(),
    role: Role,
    clearance: Clearance,
    status: AgentStatus,
    createdAt: z.iso.datetime(),
    lastSignInAt: z.iso.datetime().nullable(),
    factorCount: z.number().int(),
    lockedUntil: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Agent' });
export type Agent = z.infer<typeof Agent>;

/** What a session is allowed to do: only enrol, only finish the second step, or everything. */
export const sessionStages = ['enrol', 'mfa', 'full'] as const;
export const SessionStage = z.enum(sessionStages);
export type SessionStage = z.infer<typeof SessionStage>;

export const SessionState = z.discriminatedUnion('authenticated', [
  z.object({
    authenticated: z.literal(false),
    /** True when the request carried a session that has ended (revoked, expired or disabled). */
    ended: z.boolean().optional(),
  }),
  z.object({
    authenticated: z.literal(true),
    stage: SessionStage,
    agent: Agent,
    csrfToken: z.string(),
    /** ISO time of the last second-factor check in this session (null before any). */
    mfaAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime(),
  }),
]);
export type SessionState = z.infer<typeof SessionState>;

export const SessionInfo = z
  .object({
    id: Uuid,
    createdAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    ip: z.string(),
    userAgent: z.string(),
    stage: SessionStage,
    mfaAt: z.iso.datetime().nullable(),
    current: z.boolean(),
  })
  .meta({ id: 'SessionInfo' });
export type SessionInfo = z.infer<typeof SessionInfo>;

// ---- requests ----

export const PasswordSignInRequest = z.strictObject({ email: Email, password: Password });
export type PasswordSignInRequest = z.infer<typeof PasswordSignInRequest>;

export const TotpCode = z
  .string()
  .trim()
  .regex(/^\d{6}$/, 'a TOTP code is 6 digits');
export const TotpRequest = z.strictObject({ code: TotpCode });

/** Recovery codes are shown as xxxxx-xxxxx; dashes and spaces are ignored. */
export const RecoveryCode = z
  .string()
  .trim()
  .max(64)
  .transform((s) => s.replace(/[\s-]/g, '').toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9]{10}$/, 'a recovery code is 10 letters or digits'));
export const RecoveryRequest = z.strictObject({ code: RecoveryCode });

export const EnrolmentToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not an enrolment token');

export const EnrolmentPasswordRequest = z.strictObject({ token: EnrolmentToken, password: Password });

export const TotpEnrolBeginResponse = z.object({
  /** Base32 secret, shown as text for manual entry. */
  secret: z.string(),
  /** otpauth:// URI, rendered as a QR code by the console. */
  otpauthUri: z.string(),
});
export const TotpEnrolConfirmRequest = z.strictObject({
  code: TotpCode,
  label: z.string().trim().min(1).max(60).optional(),
});

/** WebAuthn JSON objects are produced and checked by the WebAuthn libraries, not by hand. */
export const WebAuthnJson = z.record(z.string(), z.unknown());
export const PasskeyBeginResponse = z.object({ challengeId: Uuid, options: WebAuthnJson });
export const PasskeyFinishRequest = z.strictObject({
  challengeId: Uuid,
  response: WebAuthnJson,
  /** Name shown in the account page, for a newly registered key. */
  label: z.string().trim().min(1).max(60).optional(),
});

export const FactorEnrolledResponse = z.object({
  factor: Factor,
  /** Present only when this enrolment completed the account: shown once. */
  recoveryCodes: z.array(z.string()).optional(),
});

export const SignInStepResponse = z
  .object({
    next: z.enum(['mfa', 'enrol', 'done']),
    session: SessionState,
  })
  .meta({ id: 'SignInStepResponse' });
export type SignInStepResponse = z.infer<typeof SignInStepResponse>;

export const InviteAgentRequest = z.strictObject({
  email: Email,
  displayName: DisplayName,
  unit: Unit,
  role: Role.default('agent'),
  clearance: Clearance.default('internal'),
});
export type InviteAgentRequest = z.infer<typeof InviteAgentRequest>;

export const EnrolmentLink = z
  .object({
    agent: Agent,
    enrolmentUrl: z.string(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'EnrolmentLink' });
export type EnrolmentLink = z.infer<typeof EnrolmentLink>;

export const EnrolmentInfo = z.object({
  email: z.string(),
  displayName: z.string(),
  expiresAt: z.iso.datetime(),
});

export const RecoveryCodesResponse = z.object({ recoveryCodes: z.array(z.string()) });

export const IdParam = z.strictObject({ id: Uuid });

/** Password rules (NIST SP 800-63B §5.1.1.2): length, and not a known common password. */
export const PASSWORD_MIN_LENGTH = 12;
/** How long an MFA check counts as "fresh" for sensitive actions (step-up). */
export const STEP_UP_MAX_AGE_SECONDS = 600;

export const MeResponse = z
  .object({
    agent: Agent,
    factors: z.array(Factor),
    recoveryCodesLeft: z.number().int(),
  })
  .meta({ id: 'MeResponse' });
export type MeResponse = z.infer<typeof MeResponse>;
