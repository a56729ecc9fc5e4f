/**
 * The iOS backup scanner: reads the artifacts of a backup made by Finder, iTunes or idevicebackup2
 * (encrypted ones with their password) where Pegasus-class spyware was found to leave traces, and
 * matches what they name (links, domains, process names, files, apps, configuration profiles)
 * against indicators. Each artifact is one module; one that cannot be read is reported failed and
 * the others run.
 */
import { ScanRecorder, type ArtifactModule, type ScanOptions, type ScanResult } from '../scan.js';
import { openEncryptedBackup } from './decrypt.js';
import { deviceModule, installedAppsModule } from './device.js';
import { filesModule } from './files.js';
import { IosBackup } from './manifest.js';
import { smsAttachmentsModule, smsModule } from './messages.js';
import { dataUsageModule, osAnalyticsAdDailyModule } from './network.js';
import { configurationProfilesModule } from './profiles.js';
import { safariBrowserStateModule, safariHistoryModule } from './safari.js';
import { tccModule } from './tcc.js';
import { webkitModule } from './webkit.js';
import { whatsappModule } from './whatsapp.js';

export interface IosBackupOptions extends ScanOptions {
  /** The password of an encrypted backup. */
  password?: string;
  /**
   * Where an encrypted backup is decrypted for the scan (a private folder made inside, deleted
   * when the scan ends): the system's temporary folder by default.
   */
  tempDir?: string;
}

/** The modules of a backup scan, in the order they run. */
export function iosBackupModules(backup: IosBackup): ArtifactModule[] {
  return [
    deviceModule(backup),
    installedAppsModule(backup),
    smsModule(backup),
    smsAttachmentsModule(backup),
    safariHistoryModule(backup),
    safariBrowserStateModule(backup),
    webkitModule(backup),
    dataUsageModule(backup),
    osAnalyticsAdDailyModule(backup),
    tccModule(backup),
    configurationProfilesModule(backup),
    whatsappModule(backup),
    filesModule(backup),
  ];
}

/**
 * Scans the iOS backup folder `dir` (the folder named after the device's UDID, or a folder holding
 * just one). An encrypted backup is decrypted with `options.password` into a private temporary
 * folder, deleted when the scan ends; progress then first reports deriving the key (seconds: iOS
 * asks for 10,000,000 PBKDF2 iterations) and decrypting Manifest.db.
 *
 * Throws `validation_failed` when `dir` is not a backup (or a damaged one), `backup_encrypted` for
 * an encrypted one without its password, and `backup_password_wrong` with the wrong password.
 *
 * @example
 *   const report = await scanIosBackup('/cases/42/00008030-001A2B3C4D5E6F7A', { matcher, password });
 *   report.detections.map((d) => d.detection?.malware) // [['Pegasus'], …]
 */
export async function scanIosBackup(dir: string, options: IosBackupOptions): Promise<ScanResult> {
  const decrypted = await openEncryptedBackup(dir, options);
  const backup = decrypted?.backup ?? (await IosBackup.open(dir, { password: options.password }));
  try {
    return await new ScanRecorder('ios-backup', options).run(iosBackupModules(backup));
  } finally {
    if (decrypted === undefined) backup.close();
    else decrypted.close();
  }
}
