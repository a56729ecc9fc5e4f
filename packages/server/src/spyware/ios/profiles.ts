/**
 * Configuration profiles installed on the phone. A profile can route traffic through a proxy or
 * VPN, trust a root certificate or restrict the device; Predator (Cytrox) installed one, whose
 * UUID Amnesty published as a `configuration-profile:id` indicator.
 *
 * They are in `SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles`, under
 * `Library/ConfigurationProfiles/`: each installed profile as a plist (`profile-<hash>.stub`),
 * with Apple's configuration-profile keys (`PayloadUUID`, `PayloadIdentifier`,
 * `PayloadDisplayName`, `PayloadContent`: the payloads, each with its own `PayloadUUID`) and the
 * `InstallDate` iOS adds; and `MCProfileEvents.plist`, the installs and removals
 * (`ProfileEvents`: `{ <identifier>: { operation, process, timestamp } }`).
 */
import type { ArtifactModule } from '../scan.js';
import { unique } from './artifacts.js';
import { fileMetadata, label, type IosBackup } from './manifest.js';
import { isDict, plistDate, plistString, readPlist, type PlistDict, type PlistValue } from './plist.js';

const DOMAIN = 'SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles';
const FOLDER = 'Library/ConfigurationProfiles/';

export function configurationProfilesModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'configuration_profiles',
    run(artifact) {
      const files = backup.search(`${FOLDER}%`, DOMAIN);
      const failures: string[] = [];
      let read = 0;
      for (const file of files) {
        const bytes = backup.read(file);
        if (bytes === undefined) continue;
        let plist: PlistValue;
        try {
          plist = readPlist(bytes);
        } catch (error) {
          // Only files named as plists are expected to be ones; others there (certificates…) are not.
          if (/\.(plist|stub)$/i.test(file.relativePath))
            failures.push(`${label(file)}: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
        if (!isDict(plist)) continue;
        read++;
        const name = label(file);
        if (Array.isArray(plist.ProfileEvents)) {
          for (const event of plist.ProfileEvents) {
            if (!isDict(event)) continue;
            for (const [identifier, details] of Object.entries(event)) {
              const about: PlistDict = isDict(details) ? details : {};
              const operation = plistString(about.operation) ?? 'event';
              const by = plistString(about.process);
              artifact.record(
                plistDate(about.timestamp),
                name,
                `profile ${identifier}: ${operation}${by ? ` by ${by}` : ''}`,
              );
            }
          }
          continue;
        }
        if (plist.PayloadUUID === undefined && plist.PayloadIdentifier === undefined) continue;
        const uuid = plistString(plist.PayloadUUID) ?? '';
        const payloads = payloadsOf(plist.PayloadContent);
        const installed = plistDate(plist.InstallDate) ?? fileMetadata(file)?.birth ?? null;
        artifact.record(
          installed,
          name,
          [
            `profile "${plistString(plist.PayloadDisplayName) ?? ''}"`,
            plistString(plist.PayloadIdentifier) ?? '',
            uuid !== '' ? `(${uuid})` : '',
            plistString(plist.PayloadOrganization) ? `from ${plistString(plist.PayloadOrganization)}` : '',
            payloads.length > 0
              ? `with payloads ${payloads.map((p) => plistString(p.PayloadType) ?? '?').join(', ')}`
              : '',
          ]
            .filter((part) => part !== '')
            .join(' '),
          unique([
            uuid !== '' ? artifact.matcher.configurationProfile(uuid) : undefined,
            ...payloads.map((p) => {
              const inner = plistString(p.PayloadUUID);
              return inner ? artifact.matcher.configurationProfile(inner) : undefined;
            }),
          ]),
        );
      }
      if (read === 0 && failures.length === 0)
        return artifact.missing('no configuration profile in this backup');
      if (failures.length > 0) throw new Error(failures.join('; '));
    },
  };
}

/** A profile's payloads: `PayloadContent` is a list of dictionaries (a dictionary in some profiles). */
function payloadsOf(content: PlistValue | undefined): PlistDict[] {
  if (Array.isArray(content)) return content.filter(isDict);
  return isDict(content) ? [content] : [];
}
