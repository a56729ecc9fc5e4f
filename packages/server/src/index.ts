export { buildApp, API_BODY_LIMIT, contentSecurityPolicy } from './app.js';
export {
  openPlatform,
  databaseTarget,
  loadMasterKey,
  type Platform,
  type PlatformOptions,
} from './platform.js';
export { serve, type RunningServer } from './serve.js';
export { LocalAdminClient, localSocketPath } from './local/local-admin.js';
export { createLogger } from './logger.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { totpCodeAt } from './identity/totp.js';
// The leak check's scanner is `@rempart/server/leakcheck`: its image and OCR libraries are loaded
// only by whoever checks images.
export { embeddedOptions } from './db/client.js';
export { noMediaEngine } from './media/engine.js';
// The mail gateway's generated configuration, for `rempart mail dovecot-config`.
export { dovecotConfig, dovecotLuaPassdb, postfixSubmissionService } from './mail/gateway.js';
