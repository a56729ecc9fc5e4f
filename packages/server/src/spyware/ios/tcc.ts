/**
 * The privacy permissions (Transparency, Consent and Control) apps and processes were given or
 * refused: camera, microphone, contacts, location… Spyware that runs as a process of its own must
 * ask, or be granted, like any app, and its name then shows as a client.
 *
 * `HomeDomain/Library/TCC/TCC.db`: `access(service, client, client_type, allowed | auth_value,
 * auth_reason, last_modified)`. `client_type` is 0 for a bundle id and 1 for an executable's path;
 * `allowed` (up to iOS 13) is 0 or 1, `auth_value` (iOS 14+) 0 denied, 1 unknown, 2 allowed,
 * 3 limited; `last_modified` is a Unix time in seconds.
 */
import type { ArtifactModule } from '../scan.js';
import { eachDatabaseOf, unique } from './artifacts.js';
import type { IosBackup } from './manifest.js';
import { asNumber, asText, columns, optional, rows, unixTime } from './sqlite.js';

const TCC = { domain: 'HomeDomain', path: 'Library/TCC/TCC.db' };

const AUTH_VALUES: Record<number, string> = { 0: 'denied', 1: 'unknown', 2: 'allowed', 3: 'limited' };

export function tccModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'tcc',
    async run(artifact) {
      const file = backup.find(TCC.domain, TCC.path);
      await eachDatabaseOf(file ? [file] : [], backup, artifact, 'TCC.db', (db, name) => {
        const have = columns(db, 'access');
        if (!have.has('service') || !have.has('client')) throw new Error('TCC.db has no access table');
        const list = rows(
          db,
          `SELECT service, client, ${['client_type', 'allowed', 'auth_value', 'auth_reason', 'last_modified']
            .map((c) => optional(have, c))
            .join(', ')}
           FROM access${have.has('last_modified') ? ' ORDER BY last_modified' : ''}`,
        );
        for (const row of list) {
          const client = asText(row.client) ?? '';
          const service = (asText(row.service) ?? '').replace(/^kTCCService/, '');
          const authValue = asNumber(row.auth_value);
          const allowed = asNumber(row.allowed);
          const decision =
            authValue !== undefined
              ? (AUTH_VALUES[authValue] ?? `auth_value ${authValue}`)
              : allowed !== undefined
                ? allowed === 1
                  ? 'allowed'
                  : 'denied'
                : 'unknown';
          const isPath = asNumber(row.client_type) === 1 || client.startsWith('/');
          const baseName = client.slice(client.lastIndexOf('/') + 1);
          artifact.record(
            unixTime(row.last_modified),
            name,
            `${isPath ? 'program' : 'app'} ${client} ${decision} access to ${service || '(no service)'}`,
            unique([
              client === '' ? undefined : artifact.matcher.appId(client),
              client === '' ? undefined : artifact.matcher.process(client),
              isPath ? artifact.matcher.filePath(client) : undefined,
              isPath && baseName !== '' ? artifact.matcher.process(baseName) : undefined,
            ]),
          );
        }
      });
    },
  };
}
