/** One pino logger; subsystems take children. Secrets are redacted by field name. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const redactedPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  // An encrypted iOS backup's password, sent with its upload (spyware fleet).
  'req.headers["x-backup-password"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.code',
  '*.secret',
  '*.csrfToken',
  '*.recoveryCodes',
];

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}

export type { Logger };

/** Enrolment links carry their token in the path: it never reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(/(\/enrol(?:ment)?\/)[^/?#]+/g, '$1[redacted]');
}
