/**
 * What the live watch does with hits: throttles them into alerts, and responds (blocking the
 * source address through nftables or fail2ban, dry-run by default; a signed webhook).
 *
 * @example
 *   const throttle = new HitThrottle();
 *   const responders = new Responders(parseRespondersConfig(settings), { log });
 *   await responders.start();
 *   const decision = throttle.offer(hit, Date.now());
 *   await responders.respond(hit, { notify: decision.action === 'raise' });
 */
export { isLoopback, isUnspecified, parseAddress, parseCidr, type Cidr, type IpAddress } from './address.js';
export { fail2banBackend, nftablesBackend, nftDuration, type BlockBackend } from './backends.js';
export {
  AddressBlocker,
  sourceAddress,
  type BlockEntry,
  type BlockerDependencies,
  type BlockerStats,
  type BlockOrigin,
  type BlockOutcome,
  type BlockSettings,
  type CommandRecord,
  type RefusalReason,
  type SkipReason,
  type UnblockOutcome,
} from './blocker.js';
export {
  execFileRunner,
  formatCommand,
  type CommandResult,
  type CommandRunner,
  type ExecFileRunnerOptions,
} from './commands.js';
export {
  BlockConfig,
  levelRank,
  parseRespondersConfig,
  RespondersConfig,
  RuleLevel,
  ruleLevels,
  selects,
  WebhookConfig,
  type RespondersSettings,
} from './config.js';
export {
  Responders,
  type RespondContext,
  type RespondersDependencies,
  type ResponseReport,
} from './responders.js';
export {
  HitThrottle,
  ThrottleOptions,
  type OpenAlert,
  type ThrottleDecision,
  type ThrottleStats,
} from './throttle.js';
export {
  sign,
  WebhookSender,
  type HitContext,
  type SendOutcome,
  type WebhookDependencies,
  type WebhookPayload,
  type WebhookSettings,
  type WebhookStats,
} from './webhook.js';
