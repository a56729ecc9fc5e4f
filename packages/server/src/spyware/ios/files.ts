/**
 * Every file the backup lists, by path and by name: Pegasus left files such as
 * `roleaccountd.plist` (a launch daemon's preferences, Amnesty's `file:name` indicator) among the
 * phone's own, and a file's record in Manifest.db keeps when it was created and changed even when
 * its content is not in the backup.
 */
import type { ArtifactModule } from '../scan.js';
import { unique } from './artifacts.js';
import { FILE_FLAGS, fileMetadata, type BackupFile, type IosBackup } from './manifest.js';

/**
 * Where on the phone a domain's files are, for the domains with a fixed place. App and container
 * domains live in folders named by a UUID the backup does not keep, so their files are matched by
 * their relative path and name only.
 */
const DOMAIN_ROOTS: Record<string, string> = {
  HomeDomain: '/private/var/mobile',
  CameraRollDomain: '/private/var/mobile',
  MediaDomain: '/private/var/mobile',
  KeyboardDomain: '/private/var/mobile',
  TonesDomain: '/private/var/mobile',
  RootDomain: '/private/var/root',
  WirelessDomain: '/private/var/wireless',
  SystemPreferencesDomain: '/private/var/preferences',
  DatabaseDomain: '/private/var/db',
  KeychainDomain: '/private/var/Keychains',
  ManagedPreferencesDomain: '/private/var/Managed Preferences',
  MobileDeviceDomain: '/private/var/MobileDevice',
  InstallDomain: '/private/var/installd',
  NetworkDomain: '/private/var/networkd',
  ProtectedDomain: '/private/var/protected',
};

/** The file's path on the phone, when its domain has a fixed place. */
export function devicePathOf(file: Pick<BackupFile, 'domain' | 'relativePath'>): string | undefined {
  const root = DOMAIN_ROOTS[file.domain];
  if (root === undefined) return undefined;
  return file.relativePath === '' ? root : `${root}/${file.relativePath}`;
}

export function filesModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'files',
    run(artifact) {
      backup.each((file) => {
        const absolute = devicePathOf(file);
        const name = file.relativePath.slice(file.relativePath.lastIndexOf('/') + 1);
        const detections = unique([
          absolute === undefined ? undefined : artifact.matcher.filePath(absolute),
          file.relativePath === '' ? undefined : artifact.matcher.filePath(file.relativePath),
          name === '' ? undefined : artifact.matcher.fileName(name),
        ]);
        const meta = fileMetadata(file);
        const kind =
          file.flags === FILE_FLAGS.directory
            ? 'folder'
            : file.flags === FILE_FLAGS.symlink
              ? 'link'
              : 'file';
        const details = [
          meta?.size !== undefined && kind === 'file' ? `${meta.size} bytes` : '',
          meta?.mode !== undefined ? `mode ${(meta.mode & 0o7777).toString(8).padStart(4, '0')}` : '',
          meta?.modified ? `modified ${meta.modified.toISOString()}` : '',
        ].filter((part) => part !== '');
        artifact.record(
          meta?.birth ?? meta?.modified ?? meta?.changed ?? null,
          `${file.domain}/${file.relativePath}`,
          `${kind} ${absolute ?? `${file.domain}/${file.relativePath}`}${details.length > 0 ? ` (${details.join(', ')})` : ''}`,
          detections,
        );
      });
    },
  };
}
