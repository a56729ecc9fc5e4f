/**
 * The console's only way to the server: a fetch wrapper over the JSON API. Every answer is
 * parsed with the shared contract (`@rempart/core`), every error becomes an `ApiError` with
 * the server's stable code, and the anti-forgery token rides on every state-changing request.
 * Requests carry JSON, except uploads (an image to check, a block list, an MDM export, a STIX
 * bundle, a phone's artifact, a signed consent form), whose bytes are sent as they are.
 */
import {
  AdmissionCheck,
  Agent,
  AgentRef,
  Alert,
  AuditEntry,
  AuditVerifyResult,
  Category,
  Device,
  DeviceDetail,
  DnsVerdict,
  EnrolledDevice,
  EnrolmentInfo,
  EnrolmentLink,
  FactorEnrolledResponse,
  GuestStartResponse,
  GuestVerifyResponse,
  Group,
  IndicatorImport,
  IndicatorSet,
  LeakCheckResult,
  MailPassword,
  MailPasswordCreated,
  MailPasswordsResponse,
  MdmImportResult,
  MeResponse,
  Meeting,
  NetguardList,
  OidcClient,
  OidcClientCreated,
  OidcInteraction,
  OidcInteractionDone,
  OidcKeysResponse,
  PasskeyBeginResponse,
  QueryStats,
  RecoveryCodesResponse,
  RetroHunt,
  RuleCount,
  Scan,
  SessionInfo,
  SessionState,
  SignInStepResponse,
  SpywareDevice,
  TimelinePage,
  TotpEnrolBeginResponse,
  WatchBlockView,
  WatchEventPage,
  WatchHitPage,
  WatchHuntResult,
  WatchStatusView,
  leakcheckFormats,
  type CreateMeetingRequest,
  type DeviceEnrolment,
  type DevicePlatform,
  type GroupInput,
  type GuestStartRequest,
  type InventoryReport,
  type InviteAgentRequest,
  type ListUploadQuery,
  type MailPasswordRequest,
  type OidcClientRequest,
  type ScanRequest,
  type WatchHuntRequest,
} from '@rempart/core';
import { z } from 'zod';
import { attachmentName, policyFileName } from './netguard/download';

/** Codes the console raises itself, next to the server's `ErrorCode`s. */
export const clientErrorCodes = [
  'network_error',
  'invalid_response',
  'step_up_cancelled',
  'webauthn_cancelled',
  'webauthn_unsupported',
  'webauthn_already_registered',
  'upload_cancelled',
  'unexpected',
] as const;
export type ClientErrorCode = (typeof clientErrorCodes)[number];

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached or the failure happened in the browser. */
  readonly status: number;
  /** A server `ErrorCode`, a `ClientErrorCode`, or a code newer than this console. */
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** Access problems any request may meet; the session layer reacts to them. */
export type AuthSignal = 'unauthenticated' | 'enrolment_required' | 'mfa_required';
const authSignals: ReadonlySet<string> = new Set<AuthSignal>([
  'unauthenticated',
  'enrolment_required',
  'mfa_required',
]);

let csrfToken: string | undefined;
let authSignalHandler: ((signal: AuthSignal) => void) | undefined;
let stepUpHandler: (() => Promise<boolean>) | undefined;

/** Keeps the anti-forgery token of the latest session the server described. */
export function rememberSession(state: SessionState): void {
  csrfToken = state.authenticated ? state.csrfToken : undefined;
}

export function onAuthSignal(handler: (signal: AuthSignal) => void): () => void {
  authSignalHandler = handler;
  return () => {
    if (authSignalHandler === handler) authSignalHandler = undefined;
  };
}

/**
 * Registers the step-up prompt: it resolves true once the agent has confirmed their identity
 * again, false when they gave up. A request refused with `step_up_required` is retried once.
 */
export function onStepUpRequired(handler: () => Promise<boolean>): () => void {
  stepUpHandler = handler;
  return () => {
    if (stepUpHandler === handler) stepUpHandler = undefined;
  };
}

/**
 * Asks the agent to confirm their identity now, for a decision the server makes outside a
 * request (the meeting socket's step-up). Resolves false when nobody is listening or they gave up.
 */
export function confirmIdentity(): Promise<boolean> {
  return stepUpHandler ? stepUpHandler() : Promise.resolve(false);
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a POST or a PUT carries: a JSON document, or bytes sent as they are with their own type. */
type Body = { json: unknown } | { raw: Blob; contentType: string };

async function send(method: Method, path: string, body: Body, mayStepUp: boolean): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (method === 'POST' || method === 'PUT') {
    if ('raw' in body) {
      headers['content-type'] = body.contentType;
      init.body = body.raw;
    } else {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body.json ?? {});
    }
  }
  if (method !== 'GET' && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new ApiError(0, 'network_error', 'The server could not be reached.', undefined, cause);
  }
  if (response.ok) return response;

  const error = await readError(response);
  if (error.code === 'step_up_required' && mayStepUp && stepUpHandler) {
    if (await stepUpHandler()) return send(method, path, body, false);
    throw new ApiError(error.status, 'step_up_cancelled', error.message, error.details);
  }
  if (authSignals.has(error.code)) authSignalHandler?.(error.code as AuthSignal);
  throw error;
}

async function readError(response: Response): Promise<ApiError> {
  let parsed: z.infer<typeof ErrorBody> | undefined;
  try {
    const result = ErrorBody.safeParse(await response.json());
    if (result.success) parsed = result.data;
  } catch {
    // Not JSON (a proxy's error page, say): described by the status alone below.
  }
  if (parsed) {
    const { code, message, details } = parsed.error;
    return new ApiError(response.status, code, message, details);
  }
  const code = response.status >= 500 ? 'service_unavailable' : 'unexpected';
  return new ApiError(response.status, code, `HTTP ${response.status}`);
}

async function json<S extends z.ZodType>(
  schema: S,
  method: Method,
  path: string,
  body?: unknown,
): Promise<z.output<S>> {
  return readAnswer(schema, await send(method, path, { json: body }, true));
}

async function readAnswer<S extends z.ZodType>(schema: S, response: Response): Promise<z.output<S>> {
  let data: unknown;
  try {
    data = await response.json();
  } catch (cause) {
    throw new ApiError(response.status, 'invalid_response', 'The server sent an unreadable answer.', cause);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ApiError(
      response.status,
      'invalid_response',
      'The server sent an unexpected answer.',
      result.error.issues,
    );
  }
  return result.data;
}

async function empty(method: Method, path: string, body?: unknown): Promise<void> {
  await send(method, path, { json: body }, true);
}

/** The media types the leak check names; anything else goes as bytes for the server to recognise. */
const leakcheckMediaTypes: ReadonlySet<string> = new Set(leakcheckFormats.map((format) => `image/${format}`));

/**
 * The `Content-Type` an image is uploaded with: its own when the server names it, else
 * `application/octet-stream` (a browser may say `image/jpg`, or nothing at all).
 *
 * @example
 *   uploadType(new File([bytes], 'photo.jpg', { type: 'image/jpeg' })) // → 'image/jpeg'
 *   uploadType(new File([bytes], 'photo.jpg', { type: 'image/jpg' }))  // → 'application/octet-stream'
 */
export function uploadType(image: Blob): string {
  const type = image.type.toLowerCase();
  return leakcheckMediaTypes.has(type) ? type : 'application/octet-stream';
}

async function step(path: string, body: unknown): Promise<SignInStepResponse> {
  const result = await json(SignInStepResponse, 'POST', path, body);
  rememberSession(result.session);
  return result;
}

const id = (value: string): string => encodeURIComponent(value);

const AgentList = z.object({ agents: z.array(Agent) });
const AgentResult = z.object({ agent: Agent });
const SessionList = z.object({ sessions: z.array(SessionInfo) });
const AuditList = z.object({ entries: z.array(AuditEntry) });
const AlertList = z.object({ alerts: z.array(Alert) });
const AlertResult = z.object({ alert: Alert });
const MeetingList = z.object({ meetings: z.array(Meeting) });
const MeetingResult = z.object({ meeting: Meeting });
const DirectoryAgents = z.object({ agents: z.array(AgentRef) });
const DirectoryUnits = z.object({ units: z.array(z.string()) });
const NetguardGroups = z.object({ groups: z.array(Group) });
const NetguardGroupResult = z.object({ group: Group });
const NetguardCategories = z.object({ categories: z.array(Category) });
const NetguardLists = z.object({ lists: z.array(NetguardList) });
const NetguardListResult = z.object({ list: NetguardList });
const NetguardDevices = z.object({ devices: z.array(Device) });
const NetguardDeviceResult = z.object({ device: Device });
const WatchRuleCounts = z.object({ rules: z.array(RuleCount) });
const WatchBlocks = z.object({ blocks: z.array(WatchBlockView) });
const OidcClients = z.object({ clients: z.array(OidcClient) });
const OidcClientResult = z.object({ client: OidcClient });
const MailPasswordResult = z.object({ mailPassword: MailPassword });

/**
 * The part of the provider's discovery document (OpenID Connect Discovery 1.0 §3) the console
 * shows to the owners of applications.
 */
export const OidcDiscovery = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  end_session_endpoint: z.string().optional(),
  scopes_supported: z.array(z.string()).optional(),
  backchannel_logout_supported: z.boolean().optional(),
});
export type OidcDiscovery = z.infer<typeof OidcDiscovery>;

/** Where the provider publishes its discovery document, under its issuer (RFC 8414 §3, OIDC Discovery §4). */
const OIDC_DISCOVERY_PATH = '/oidc/.well-known/openid-configuration';

/** A list's text goes as it is; the server reads hosts files, one name a line, and adblock rules. */
const listBody = (text: Blob) => ({ raw: text, contentType: 'text/plain' });

/** A file the server sent to be saved, with the name it gave it. */
export interface SavedFile {
  blob: Blob;
  fileName: string;
}

export type AlertStatusFilter = 'open' | 'acknowledged' | 'all';

/** How much of an upload the browser has sent: `total` is 0 until the browser knows it. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * A POST of bytes through XMLHttpRequest rather than fetch: fetch reports no upload progress, and
 * a phone's backup can take minutes to send. The same rules as `send`: the anti-forgery token,
 * the server's error codes, one retry after a step-up.
 */
function sendWithProgress(
  path: string,
  body: Blob,
  contentType: string,
  onProgress: (progress: UploadProgress) => void,
  extraHeaders: Readonly<Record<string, string>> = {},
  signal?: AbortSignal,
  mayStepUp = true,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ApiError(0, 'upload_cancelled', 'The upload was cancelled.'));
      return;
    }
    const request = new XMLHttpRequest();
    signal?.addEventListener('abort', () => request.abort(), { once: true });
    request.open('POST', path);
    request.withCredentials = true;
    request.setRequestHeader('accept', 'application/json');
    request.setRequestHeader('content-type', contentType);
    if (csrfToken !== undefined) request.setRequestHeader('x-csrf-token', csrfToken);
    for (const [name, value] of Object.entries(extraHeaders)) request.setRequestHeader(name, value);
    request.upload.addEventListener('progress', (event) => {
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : 0 });
    });
    request.addEventListener('error', () => {
      reject(new ApiError(0, 'network_error', 'The server could not be reached.'));
    });
    request.addEventListener('abort', () => {
      reject(new ApiError(0, 'upload_cancelled', 'The upload was cancelled.'));
    });
    request.addEventListener('load', () => {
      const answer = { status: request.status, text: request.responseText };
      if (request.status >= 200 && request.status < 300) {
        resolve(answer);
        return;
      }
      const error = errorOf(answer.status, answer.text);
      if (error.code === 'step_up_required' && mayStepUp && stepUpHandler) {
        void stepUpHandler().then((confirmed) => {
          if (!confirmed) {
            reject(new ApiError(error.status, 'step_up_cancelled', error.message, error.details));
            return;
          }
          sendWithProgress(path, body, contentType, onProgress, extraHeaders, signal, false).then(
            resolve,
            reject,
          );
        }, reject);
        return;
      }
      if (authSignals.has(error.code)) authSignalHandler?.(error.code as AuthSignal);
      reject(error);
    });
    request.send(body);
  });
}

/** The error an answer's text describes, as `readError` reads a fetch response. */
function errorOf(status: number, text: string): ApiError {
  try {
    const result = ErrorBody.safeParse(JSON.parse(text));
    if (result.success) {
      const { code, message, details } = result.data.error;
      return new ApiError(status, code, message, details);
    }
  } catch {
    // Not JSON: described by the status alone below.
  }
  return new ApiError(status, status >= 500 ? 'service_unavailable' : 'unexpected', `HTTP ${status}`);
}

function parseAnswer<S extends z.ZodType>(schema: S, status: number, text: string): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ApiError(status, 'invalid_response', 'The server sent an unreadable answer.', cause);
  }
  const result = schema.safeParse(data);
  if (!result.success)
    throw new ApiError(
      status,
      'invalid_response',
      'The server sent an unexpected answer.',
      result.error.issues,
    );
  return result.data;
}

/** One function per endpoint of the API the console uses. */
export const api = {
  // ---- session and sign-in ----
  async session(): Promise<SessionState> {
    const state = await json(SessionState, 'GET', '/api/session');
    rememberSession(state);
    return state;
  },
  enrolmentInfo: (token: string) => json(EnrolmentInfo, 'GET', `/api/enrolment/${id(token)}`),
  setEnrolmentPassword: (token: string, password: string) =>
    step('/api/enrolment/password', { token, password }),
  signInWithPassword: (email: string, password: string) => step('/api/auth/password', { email, password }),
  verifyTotp: (code: string) => step('/api/auth/totp', { code }),
  verifyRecoveryCode: (code: string) => step('/api/auth/recovery', { code }),
  passkeySignInBegin: () => json(PasskeyBeginResponse, 'POST', '/api/auth/webauthn/begin'),
  passkeySignInFinish: (challengeId: string, response: unknown) =>
    step('/api/auth/webauthn/finish', { challengeId, response }),
  signOut: () => empty('POST', '/api/auth/sign-out'),

  // ---- my account ----
  me: () => json(MeResponse, 'GET', '/api/me'),
  sessions: () => json(SessionList, 'GET', '/api/me/sessions'),
  revokeSession: (sessionId: string) => empty('DELETE', `/api/me/sessions/${id(sessionId)}`),
  totpBegin: () => json(TotpEnrolBeginResponse, 'POST', '/api/me/factors/totp/begin'),
  totpConfirm: (code: string, label?: string) =>
    json(FactorEnrolledResponse, 'POST', '/api/me/factors/totp/confirm', { code, label }),
  passkeyRegisterBegin: () => json(PasskeyBeginResponse, 'POST', '/api/me/factors/webauthn/begin'),
  passkeyRegisterFinish: (challengeId: string, response: unknown, label?: string) =>
    json(FactorEnrolledResponse, 'POST', '/api/me/factors/webauthn/finish', { challengeId, response, label }),
  removeFactor: (factorId: string) => empty('DELETE', `/api/me/factors/${id(factorId)}`),
  newRecoveryCodes: () => json(RecoveryCodesResponse, 'POST', '/api/me/recovery-codes'),

  // ---- mail passwords (one per device that reads the agent's mail) ----
  mailPasswords: () => json(MailPasswordsResponse, 'GET', '/api/account/mail-passwords'),
  /** Needs a fresh second-factor check; the secret is in this answer and nowhere else, ever. */
  createMailPassword: (request: z.input<typeof MailPasswordRequest>) =>
    json(MailPasswordCreated, 'POST', '/api/account/mail-passwords', request),
  revokeMailPassword: (passwordId: string) =>
    json(MailPasswordResult, 'DELETE', `/api/account/mail-passwords/${id(passwordId)}`),

  // ---- signing in to an application (OpenID Connect) ----
  oidc: {
    /** The pending request of an application; 410 `interaction_invalid` once expired or used. */
    interaction: (uid: string) => json(OidcInteraction, 'GET', `/oidc/interaction/${id(uid)}/details`),
    /**
     * Signs the agent in to the application: where the browser goes next. A 403 `step_up_required`
     * (the application wants a more recent second-factor check) opens the step-up prompt first.
     */
    complete: (uid: string) => json(OidcInteractionDone, 'POST', `/oidc/interaction/${id(uid)}/complete`),
    /** Declines: the application is told `access_denied`. */
    abort: (uid: string) => json(OidcInteractionDone, 'POST', `/oidc/interaction/${id(uid)}/abort`),
    discovery: () => json(OidcDiscovery, 'GET', OIDC_DISCOVERY_PATH),
  },

  // ---- administration ----
  agents: () => json(AgentList, 'GET', '/api/admin/agents'),
  inviteAgent: (request: InviteAgentRequest) => json(EnrolmentLink, 'POST', '/api/admin/agents', request),
  disableAgent: (agentId: string) => json(AgentResult, 'POST', `/api/admin/agents/${id(agentId)}/disable`),
  enableAgent: (agentId: string) => json(AgentResult, 'POST', `/api/admin/agents/${id(agentId)}/enable`),
  unlockAgent: (agentId: string) => json(AgentResult, 'POST', `/api/admin/agents/${id(agentId)}/unlock`),
  resetMfa: (agentId: string) => json(EnrolmentLink, 'POST', `/api/admin/agents/${id(agentId)}/reset-mfa`),
  newEnrolmentLink: (agentId: string) =>
    json(EnrolmentLink, 'POST', `/api/admin/agents/${id(agentId)}/enrolment-link`),
  agentMailPasswords: (agentId: string) =>
    json(MailPasswordsResponse, 'GET', `/api/admin/agents/${id(agentId)}/mail-passwords`),
  revokeAgentMailPassword: (passwordId: string) =>
    json(MailPasswordResult, 'DELETE', `/api/admin/mail-passwords/${id(passwordId)}`),
  applications: {
    clients: () => json(OidcClients, 'GET', '/api/admin/oidc/clients'),
    /** The secret of a confidential client is in this answer and nowhere else, ever. */
    register: (request: z.input<typeof OidcClientRequest>) =>
      json(OidcClientCreated, 'POST', '/api/admin/oidc/clients', request),
    update: (clientId: string, request: z.input<typeof OidcClientRequest>) =>
      json(OidcClientResult, 'PUT', `/api/admin/oidc/clients/${id(clientId)}`, request),
    /** The old secret stops working at once. */
    newSecret: (clientId: string) =>
      json(OidcClientCreated, 'POST', `/api/admin/oidc/clients/${id(clientId)}/secret`),
    disable: (clientId: string) =>
      json(OidcClientResult, 'POST', `/api/admin/oidc/clients/${id(clientId)}/disable`),
    enable: (clientId: string) =>
      json(OidcClientResult, 'POST', `/api/admin/oidc/clients/${id(clientId)}/enable`),
    keys: () => json(OidcKeysResponse, 'GET', '/api/admin/oidc/keys'),
    rotateKeys: () => json(OidcKeysResponse, 'POST', '/api/admin/oidc/keys/rotate'),
  },

  // ---- audit log and alerts ----
  audit: (limit: number, before?: number) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined) query.set('before', String(before));
    return json(AuditList, 'GET', `/api/audit?${query.toString()}`);
  },
  verifyAudit: () => json(AuditVerifyResult, 'GET', '/api/audit/verify'),
  alerts: (status: AlertStatusFilter) =>
    json(AlertList, 'GET', `/api/alerts?${new URLSearchParams({ status }).toString()}`),
  acknowledgeAlert: (alertId: string) => json(AlertResult, 'POST', `/api/alerts/${id(alertId)}/ack`),

  // ---- meetings ----
  meetings: () => json(MeetingList, 'GET', '/api/meetings'),
  meeting: (meetingId: string) => json(MeetingResult, 'GET', `/api/meetings/${id(meetingId)}`),
  createMeeting: (request: CreateMeetingRequest) => json(MeetingResult, 'POST', '/api/meetings', request),
  rotateMeetingLink: (meetingId: string) =>
    json(MeetingResult, 'POST', `/api/meetings/${id(meetingId)}/rotate`),
  endMeeting: (meetingId: string) => json(MeetingResult, 'POST', `/api/meetings/${id(meetingId)}/end`),
  /** What would happen if I joined now; a refusal is an answer here, not an error. */
  admissionCheck: (linkId: string) => json(AdmissionCheck, 'GET', `/api/m/${id(linkId)}`),
  guestStart: (linkId: string, request: GuestStartRequest) =>
    json(GuestStartResponse, 'POST', `/api/m/${id(linkId)}/guest`, request),
  guestVerify: (linkId: string, challengeId: string, code: string) =>
    json(GuestVerifyResponse, 'POST', `/api/m/${id(linkId)}/guest/verify`, { challengeId, code }),
  directoryAgents: (query: string) =>
    json(DirectoryAgents, 'GET', `/api/directory/agents?${new URLSearchParams({ q: query }).toString()}`),
  directoryUnits: () => json(DirectoryUnits, 'GET', '/api/directory/units'),

  // ---- leak check ----
  /** What an image gives away; with `redact` (the default), a copy with all of it masked. */
  leakCheck: async (image: Blob, options: { redact?: boolean } = {}) => {
    const query = new URLSearchParams({ redact: String(options.redact ?? true) });
    const body = { raw: image, contentType: uploadType(image) };
    return readAnswer(LeakCheckResult, await send('POST', `/api/leakcheck?${query.toString()}`, body, true));
  },

  // ---- network guard (administrators) ----
  netguard: {
    /** Queries and blocks over the last `hours`, the top names and clients, the resolver's counters. */
    stats: (hours: number) =>
      json(
        QueryStats,
        'GET',
        `/api/netguard/stats?${new URLSearchParams({ hours: String(hours) }).toString()}`,
      ),
    groups: () => json(NetguardGroups, 'GET', '/api/netguard/groups'),
    /** Creates the group `groupId`, or replaces it. */
    saveGroup: (groupId: string, input: GroupInput) =>
      json(NetguardGroupResult, 'PUT', `/api/netguard/groups/${id(groupId)}`, input),
    deleteGroup: (groupId: string) => empty('DELETE', `/api/netguard/groups/${id(groupId)}`),
    categories: () => json(NetguardCategories, 'GET', '/api/netguard/categories'),
    lists: () => json(NetguardLists, 'GET', '/api/netguard/lists'),
    uploadList: async (text: Blob, query: z.output<typeof ListUploadQuery>) => {
      const search = new URLSearchParams({ name: query.name, action: query.action, format: query.format });
      const response = await send('POST', `/api/netguard/lists?${search.toString()}`, listBody(text), true);
      return readAnswer(NetguardListResult, response);
    },
    /** Replaces an uploaded list's text; the groups using it switch at once. */
    replaceList: async (listId: string, text: Blob) =>
      readAnswer(
        NetguardListResult,
        await send('PUT', `/api/netguard/lists/${id(listId)}`, listBody(text), true),
      ),
    deleteList: (listId: string) => empty('DELETE', `/api/netguard/lists/${id(listId)}`),
    /** Why `domain` is blocked or allowed for `client` (127.0.0.1 when not given). */
    test: (query: { domain: string; client?: string }) =>
      json(DnsVerdict, 'GET', `/api/netguard/test?${new URLSearchParams(query).toString()}`),
    /** A group's device profile: an Apple `.mobileconfig` or an Android Management API policy. */
    policy: async (platform: DevicePlatform, group: string): Promise<SavedFile> => {
      const search = new URLSearchParams({ platform, group });
      const response = await send(
        'GET',
        `/api/netguard/policy?${search.toString()}`,
        { json: undefined },
        true,
      );
      const fileName = attachmentName(
        response.headers.get('content-disposition'),
        policyFileName(platform, group),
      );
      return { blob: await response.blob(), fileName };
    },
    devices: () => json(NetguardDevices, 'GET', '/api/netguard/devices'),
    /** Enrols a device: its token is in this answer and nowhere else, ever. */
    enrolDevice: (enrolment: z.input<typeof DeviceEnrolment>) =>
      json(EnrolledDevice, 'POST', '/api/netguard/devices', enrolment),
    deleteDevice: (deviceId: string) => empty('DELETE', `/api/netguard/devices/${id(deviceId)}`),
    /** Imports a device's installed apps (from an MDM export); the answer tells its compliance. */
    importInventory: (deviceId: string, report: InventoryReport) =>
      json(NetguardDeviceResult, 'POST', `/api/netguard/devices/${id(deviceId)}/inventory`, report),
    /**
     * Imports an MDM's CSV inventory export as it is: the devices it names get its apps, those not
     * enrolled yet are enrolled. A 400 `validation_failed` says no device could be read.
     */
    importMdmExport: async (csv: Blob) =>
      readAnswer(
        MdmImportResult,
        await send('POST', '/api/netguard/devices/import', { raw: csv, contentType: 'text/csv' }, true),
      ),
  },

  // ---- spyware check ----
  spyware: {
    /** The STIX 2 bundles scans and the DNS guard match against: shipped ones and imported ones. */
    indicatorSets: () => json(z.array(IndicatorSet), 'GET', '/api/spyware/indicator-sets'),
    /** Imports a bundle as it is; a 400 `stix_invalid` names the object that could not be read. */
    importIndicators: async (bundle: Blob, name: string) =>
      readAnswer(
        IndicatorImport,
        await send(
          'POST',
          `/api/spyware/indicator-sets?${new URLSearchParams({ name }).toString()}`,
          { raw: bundle, contentType: 'application/json' },
          true,
        ),
      ),
    deleteIndicatorSet: (setId: string) => empty('DELETE', `/api/spyware/indicator-sets/${id(setId)}`),
    retroHunts: () => json(z.array(RetroHunt), 'GET', '/api/spyware/retro-hunts'),
    retroHunt: (huntId: string) => json(RetroHunt, 'GET', `/api/spyware/retro-hunts/${id(huntId)}`),
    /** Every device for an administrator; an agent's own for anyone else. */
    devices: () => json(z.array(SpywareDevice), 'GET', '/api/spyware/devices'),
    device: (deviceId: string) => json(DeviceDetail, 'GET', `/api/spyware/devices/${id(deviceId)}`),
    /** Asks for a check of an agent's device: it waits for the owner's consent. */
    requestScan: (request: ScanRequest) => json(Scan, 'POST', '/api/spyware/scans', request),
    scan: (scanId: string) => json(Scan, 'GET', `/api/spyware/scans/${id(scanId)}`),
    /** The owner agrees, signed in with MFA. */
    consent: (scanId: string) =>
      json(Scan, 'POST', `/api/spyware/scans/${id(scanId)}/consent`, { consent: true }),
    /** The owner refuses, or takes back a consent given before the artifact was read. */
    withdraw: (scanId: string) => json(Scan, 'POST', `/api/spyware/scans/${id(scanId)}/withdraw`),
    /** An administrator attaches the owner's signed paper form (PDF, PNG or JPEG). */
    attachConsentForm: async (scanId: string, form: Blob, fileName: string, contentType: string) =>
      readAnswer(
        Scan,
        await send(
          'POST',
          `/api/spyware/scans/${id(scanId)}/consent-form?${new URLSearchParams({ fileName }).toString()}`,
          { raw: form, contentType },
          true,
        ),
      ),
    /**
     * Sends the zipped artifact; `onProgress` follows the upload, then the answer is the scan
     * now `scanning` (a 409 `consent_required` when the owner has not consented).
     */
    uploadArtifact: async (
      scanId: string,
      zip: Blob,
      options: { password?: string; onProgress: (progress: UploadProgress) => void; signal?: AbortSignal },
    ) => {
      const headers: Record<string, string> =
        options.password === undefined || options.password === ''
          ? {}
          : { 'x-backup-password': options.password };
      const answer = await sendWithProgress(
        `/api/spyware/scans/${id(scanId)}/artifact`,
        zip,
        'application/zip',
        options.onProgress,
        headers,
        options.signal,
      );
      return parseAnswer(Scan, answer.status, answer.text);
    },
    /** A page of the scan's timeline; `search` comes from `timelineSearch`. */
    timeline: (scanId: string, search: string) =>
      json(TimelinePage, 'GET', `/api/spyware/scans/${id(scanId)}/timeline?${search}`),
    /** The report as one HTML page, for a download link (to attach to a case file). */
    reportUrl: (scanId: string) => `/api/spyware/scans/${id(scanId)}/report.html`,
    /** The signed consent form attached to a scan, for a download link. */
    consentFormUrl: (scanId: string) => `/api/spyware/scans/${id(scanId)}/consent-form`,
  },
  // ---- server watch (administrators) ----
  watch: {
    /** What the watch receives and runs: rules, receivers, queue, counters, responses. */
    status: () => json(WatchStatusView, 'GET', '/api/watch/status'),
    /**
     * A page of stored events, newest first; `search` comes from `eventsSearch`. A query the
     * language refuses answers 400 `validation_failed`, its message saying where.
     */
    events: (search: string) => json(WatchEventPage, 'GET', `/api/watch/events?${search}`),
    /** A page of hits, newest first; `search` comes from `hitsSearch`. */
    hits: (search: string) => json(WatchHitPage, 'GET', `/api/watch/hits?${search}`),
    /** Each rule's hits over a window. */
    rules: (window: { from: string; to: string }) =>
      json(WatchRuleCounts, 'GET', `/api/watch/rules?${new URLSearchParams(window).toString()}`),
    /** Runs rules over stored events; a broken rule answers 400 naming its file and line. */
    hunt: (request: WatchHuntRequest) => json(WatchHuntResult, 'POST', '/api/watch/hunts', request),
    blocks: () => json(WatchBlocks, 'GET', '/api/watch/blocks'),
    unblock: (address: string) => empty('DELETE', `/api/watch/blocks/${id(address)}`),
    /** The latest alerts of every state, to read the events a hit's alert carries. */
    alerts: () => json(AlertList, 'GET', '/api/alerts?status=all&limit=500'),
  },
};

/** `details.retryAfterSeconds` of a `too_many_attempts` error, when the server gave one. */
export function retryAfterSeconds(error: ApiError): number | undefined {
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('retryAfterSeconds' in details)) return undefined;
  const value = details.retryAfterSeconds;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `details.maxBytes` of a `payload_too_large` error: the largest upload the server takes. */
export function maxBytes(error: ApiError): number | undefined {
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('maxBytes' in details)) return undefined;
  const value = details.maxBytes;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** `details.minLength` of a `weak_password` error. */
export function minLength(error: ApiError): number | undefined {
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('minLength' in details)) return undefined;
  const value = details.minLength;
  return typeof value === 'number' ? value : undefined;
}
