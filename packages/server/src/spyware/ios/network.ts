/**
 * What iOS counts of each process's network use. Pegasus' processes (`bh`, `roleaccountd`,
 * `msgacntd`…) had no app of their own, yet iOS accounted for their traffic like any other: their
 * names in these records were among the first traces Amnesty published in 2021.
 *
 * - `WirelessDomain/Library/Databases/DataUsage.sqlite` (Core Data): `ZPROCESS(Z_PK, ZPROCNAME,
 *   ZBUNDLENAME, ZFIRSTTIMESTAMP, ZTIMESTAMP)` and its traffic in `ZLIVEUSAGE(ZHASPROCESS, ZWIFIIN,
 *   ZWIFIOUT, ZWWANIN, ZWWANOUT, ZTIMESTAMP)`, times in seconds since 2001-01-01.
 * - `HomeDomain/Library/Preferences/com.apple.osanalytics.addaily.plist`: `netUsageBaseline`, by
 *   process name, `[date, Wi-Fi in, Wi-Fi out, cellular in, cellular out]`.
 */
import type { Detection } from '@rempart/core';
import type { ArtifactModule, ArtifactRecorder } from '../scan.js';
import { appleTime } from '../scan.js';
import { eachDatabaseOf, readArtifactFile, unique } from './artifacts.js';
import { label, type IosBackup } from './manifest.js';
import { isDict, plistDate, plistNumber, readPlist } from './plist.js';
import { asNumber, asText, columns, optional, rows } from './sqlite.js';

const DATA_USAGE = { domain: 'WirelessDomain', path: 'Library/Databases/DataUsage.sqlite' };
const ADDAILY = { domain: 'HomeDomain', path: 'Library/Preferences/com.apple.osanalytics.addaily.plist' };

export function dataUsageModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'datausage',
    async run(artifact) {
      const file = backup.find(DATA_USAGE.domain, DATA_USAGE.path);
      await eachDatabaseOf(file ? [file] : [], backup, artifact, 'DataUsage.sqlite', (db, name) => {
        const processColumns = columns(db, 'ZPROCESS');
        if (processColumns.size === 0) throw new Error('DataUsage.sqlite has no ZPROCESS table');
        const usage = columns(db, 'ZLIVEUSAGE');
        const traffic = usage.has('zhasprocess');
        const list = rows(
          db,
          `SELECT p.Z_PK AS pk, ${['p.ZPROCNAME', 'p.ZBUNDLENAME', 'p.ZFIRSTTIMESTAMP', 'p.ZTIMESTAMP']
            .map((c) => optional(processColumns, c))
            .join(', ')},
           ${['ZWIFIIN', 'ZWIFIOUT', 'ZWWANIN', 'ZWWANOUT']
             .map((c) => (traffic ? optional(usage, `l.${c}`) : `NULL AS ${c}`))
             .join(', ')},
           ${traffic ? optional(usage, 'l.ZTIMESTAMP', 'USAGETIME') : 'NULL AS USAGETIME'}
           FROM ZPROCESS p ${traffic ? 'LEFT JOIN ZLIVEUSAGE l ON l.ZHASPROCESS = p.Z_PK' : ''}
           ORDER BY p.Z_PK`,
        );
        for (const row of list) {
          const procName = asText(row.ZPROCNAME) ?? '';
          const bundle = asText(row.ZBUNDLENAME) ?? '';
          const first = appleTime(asNumber(row.ZFIRSTTIMESTAMP));
          const last = appleTime(asNumber(row.ZTIMESTAMP));
          const at = appleTime(asNumber(row.USAGETIME)) ?? last ?? first;
          const bytes = trafficText([row.ZWIFIIN, row.ZWIFIOUT, row.ZWWANIN, row.ZWWANOUT].map(asNumber));
          artifact.record(
            at,
            name,
            [
              `process ${procName || '(no name)'}`,
              bundle !== '' ? `of ${bundle}` : '',
              first ? `first seen ${first.toISOString()}` : '',
              last ? `last seen ${last.toISOString()}` : '',
              bytes,
            ]
              .filter((part) => part !== '')
              .join(', '),
            unique([
              ...processDetections(artifact, procName),
              bundle !== '' ? artifact.matcher.appId(bundle) : undefined,
            ]),
          );
        }
      });
    },
  };
}

export function osAnalyticsAdDailyModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'osanalytics_addaily',
    run(artifact) {
      const found = readArtifactFile(
        backup,
        artifact,
        [backup.find(ADDAILY.domain, ADDAILY.path)],
        'com.apple.osanalytics.addaily.plist',
      );
      if (!found) return;
      const plist = readPlist(found.bytes);
      const baseline = isDict(plist) ? plist.netUsageBaseline : undefined;
      if (!isDict(baseline))
        return artifact.missing('com.apple.osanalytics.addaily.plist has no netUsageBaseline');
      for (const [procName, values] of Object.entries(baseline)) {
        const list = Array.isArray(values) ? values : [];
        artifact.record(
          plistDate(list[0]),
          label(found.file),
          [`process ${procName}`, trafficText(list.slice(1, 5).map(plistNumber))]
            .filter((p) => p !== '')
            .join(', '),
          processDetections(artifact, procName),
        );
      }
    },
  };
}

/**
 * Detections of a process name as iOS records it: a bare name (`bh`), a bundle id, or a name with
 * the process id after a slash (`com.apple.x/123`), which is not part of the name.
 */
export function processDetections(artifact: ArtifactRecorder, recorded: string): Detection[] {
  const name = recorded.trim().replace(/\/\d+$/, '');
  if (name === '') return [];
  return unique([
    artifact.matcher.process(name),
    name.includes('.') ? artifact.matcher.appId(name) : undefined,
  ]);
}

/** Traffic counts as text: Wi-Fi in and out, cellular in and out, in bytes. */
function trafficText([wifiIn, wifiOut, wwanIn, wwanOut]: (number | undefined)[]): string {
  if ([wifiIn, wifiOut, wwanIn, wwanOut].every((n) => n === undefined)) return '';
  const n = (value: number | undefined) => (value === undefined ? '?' : String(value));
  return `Wi-Fi ${n(wifiIn)} B in, ${n(wifiOut)} B out; cellular ${n(wwanIn)} B in, ${n(wwanOut)} B out`;
}
