/**
 * Sites WebKit kept a trace of, in Safari and in every app that shows web pages: what survives
 * when the browsing history was cleared, or when a link was opened inside an app, where Safari's
 * history does not see it.
 *
 * - Intelligent Tracking Prevention's database, `…/WebKit/WebsiteData/ResourceLoadStatistics/
 *   observations.db`: `ObservedDomains(domainID, registrableDomain, lastSeen,
 *   hadUserInteraction)`, `lastSeen` a Unix time in seconds.
 * - The website-data folders and files WebKit names after an origin, `<scheme>_<host>_<port>`:
 *   `LocalStorage/https_example.com_0.localstorage`, `IndexedDB/v1/https_example.com_0/…`.
 */
import type { ArtifactModule, ArtifactRecorder } from '../scan.js';
import { eachDatabaseOf } from './artifacts.js';
import { fileMetadata, label, type BackupFile, type IosBackup } from './manifest.js';
import { asNumber, asText, columns, optional, rows, unixTime } from './sqlite.js';

const OBSERVATIONS = '%WebKit/WebsiteData/ResourceLoadStatistics/observations.db';
const WEBSITE_DATA = '%WebKit/WebsiteData/%';

/** An origin as WebKit writes it in a file or folder name (port 0: the scheme's default). */
const ORIGIN_NAME = /^(https?|wss?|file)_(.+)_(\d+)(?:\.localstorage(?:-shm|-wal|-journal)?)?$/i;

export function webkitModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'webkit',
    async run(artifact) {
      const observations = backup.search(OBSERVATIONS);
      const origins = websiteDataOrigins(backup);
      if (observations.length === 0 && origins.size === 0)
        return artifact.missing('no WebKit website data in this backup');
      for (const { file, scheme, host, port, where } of origins.values()) {
        const meta = fileMetadata(file);
        artifact.record(
          meta?.birth ?? meta?.modified ?? null,
          label(file),
          `${scheme}://${host}${port === '0' ? '' : `:${port}`} left website data (${where}) in ${appOf(file.domain)}`,
          artifact.matcher.domain(host),
        );
      }
      if (observations.length > 0) await readObservations(backup, artifact, observations);
    },
  };
}

function readObservations(backup: IosBackup, artifact: ArtifactRecorder, files: BackupFile[]): Promise<void> {
  return eachDatabaseOf(files, backup, artifact, 'observations.db', (db, name) => {
    const have = columns(db, 'ObservedDomains');
    if (!have.has('registrabledomain')) throw new Error('observations.db has no ObservedDomains table');
    const app = appOf(name.slice(0, name.indexOf('/')));
    const list = rows(
      db,
      `SELECT registrableDomain, ${optional(have, 'lastSeen')}, ${optional(have, 'hadUserInteraction')}
       FROM ObservedDomains`,
    );
    for (const row of list) {
      const domain = asText(row.registrableDomain) ?? '';
      const interacted = asNumber(row.hadUserInteraction) === 1;
      artifact.record(
        unixTime(row.lastSeen),
        name,
        `${domain} loaded in ${app}${interacted ? ', with user interaction' : ''}`,
        domain === '' ? undefined : artifact.matcher.domain(domain),
      );
    }
  });
}

interface Origin {
  file: BackupFile;
  scheme: string;
  host: string;
  port: string;
  /** The kind of data: the folder under WebsiteData (LocalStorage, IndexedDB…). */
  where: string;
}

/** The origins named by website-data paths, once per app and origin (the first path naming it). */
function websiteDataOrigins(backup: IosBackup): Map<string, Origin> {
  const origins = new Map<string, Origin>();
  for (const file of backup.search(WEBSITE_DATA)) {
    const at = file.relativePath.indexOf('WebsiteData/');
    if (at === -1) continue;
    const segments = file.relativePath.slice(at + 'WebsiteData/'.length).split('/');
    for (const segment of segments) {
      const match = ORIGIN_NAME.exec(segment);
      if (!match) continue;
      const [, scheme = '', host = '', port = ''] = match;
      const key = `${file.domain}\u0000${scheme}://${host}:${port}`.toLowerCase();
      if (!origins.has(key))
        origins.set(key, { file, scheme: scheme.toLowerCase(), host, port, where: segments[0] ?? '' });
      break;
    }
  }
  return origins;
}

/** The app a backup domain belongs to: `AppDomain-com.apple.mobilesafari` is Safari's. */
function appOf(domain: string): string {
  const app = /^AppDomain(?:Group|Plugin)?-(.+)$/.exec(domain)?.[1];
  return app ?? domain;
}
