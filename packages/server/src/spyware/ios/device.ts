/**
 * What the backup folder's own plists say: the device (Info.plist, with Manifest.plist's
 * `Lockdown` values when Info.plist lacks them) and the apps installed on it.
 */
import type { ArtifactModule } from '../scan.js';
import type { IosBackup } from './manifest.js';
import { isDict, plistDate, plistString, type PlistDict } from './plist.js';

/** Info.plist keys, then Manifest.plist `Lockdown` keys, of each device value. */
const DEVICE_KEYS: readonly { key: string; info: string; lockdown?: string }[] = [
  { key: 'name', info: 'Device Name', lockdown: 'DeviceName' },
  { key: 'model', info: 'Product Type', lockdown: 'ProductType' },
  { key: 'osVersion', info: 'Product Version', lockdown: 'ProductVersion' },
  { key: 'build', info: 'Build Version', lockdown: 'BuildVersion' },
  { key: 'serial', info: 'Serial Number', lockdown: 'SerialNumber' },
  { key: 'imei', info: 'IMEI' },
  { key: 'udid', info: 'Unique Identifier', lockdown: 'UniqueDeviceID' },
];

export function deviceModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'device',
    run(artifact) {
      const info = backup.rootPlist('Info.plist');
      const manifest = backup.rootPlist('Manifest.plist');
      const lockdown = isDict(manifest?.Lockdown) ? manifest.Lockdown : undefined;
      if (info === undefined && lockdown === undefined)
        return artifact.missing('no Info.plist, and no Lockdown values in Manifest.plist');
      for (const { key, info: infoKey, lockdown: lockdownKey } of DEVICE_KEYS) {
        artifact.device(key, plistString(info?.[infoKey]));
        if (lockdownKey !== undefined) artifact.device(key, plistString(lockdown?.[lockdownKey]));
      }
      // When the backup was made: Info.plist says it, Status.plist too (its `Date`).
      const backupDate =
        plistDate(info?.['Last Backup Date']) ?? plistDate(backup.rootPlist('Status.plist')?.Date);
      artifact.device('backupDate', backupDate?.toISOString());
    },
  };
}

/**
 * The bundle ids of the installed apps: Info.plist's `Installed Applications` (a list) and
 * `Applications` (a dictionary by bundle id), and Manifest.plist's `Applications`. MVT's `app:id`
 * indicators name the bundle ids of spyware apps.
 */
export function installedAppsModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'installed_apps',
    run(artifact) {
      const info = backup.rootPlist('Info.plist');
      const manifest = backup.rootPlist('Manifest.plist');
      const apps = new Map<string, { file: string; version: string | undefined }>();
      const add = (id: string, file: string, details?: PlistDict) => {
        if (id === '' || apps.has(id)) return;
        apps.set(id, {
          file,
          version: plistString(details?.CFBundleShortVersionString) ?? plistString(details?.CFBundleVersion),
        });
      };
      const installed = info?.['Installed Applications'];
      if (Array.isArray(installed))
        for (const id of installed) if (typeof id === 'string') add(id, 'Info.plist');
      for (const [file, plist] of [
        ['Info.plist', info],
        ['Manifest.plist', manifest],
      ] as const) {
        const applications = plist?.Applications;
        if (isDict(applications))
          for (const [id, details] of Object.entries(applications))
            add(id, file, isDict(details) ? details : undefined);
      }
      if (apps.size === 0)
        return artifact.missing('no list of installed apps in Info.plist or Manifest.plist');
      for (const [id, { file, version }] of apps)
        artifact.record(
          null,
          file,
          `app ${id}${version ? ` ${version}` : ''} is installed`,
          artifact.matcher.appId(id),
        );
    },
  };
}
