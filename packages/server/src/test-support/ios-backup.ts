/**
 * Writes iOS backup folders for tests, laid out as Finder and iTunes write them: Info.plist (XML),
 * Manifest.plist and Status.plist (binary), Manifest.db (SQLite, one `Files` row per file, with an
 * MBFile record in NSKeyedArchiver form), and each file's content at `<fileID[0..2]>/<fileID>`
 * (flat `<fileID>` on request), `fileID = sha1("<domain>-<relativePath>")`.
 *
 * The artifact databases are real SQLite files made with sql.js, with the tables and columns iOS
 * uses (a subset of the columns where a table has dozens), so the scanner reads what a phone writes.
 * An artifact is written only when its list is given: leave one out and the backup lacks it.
 *
 * Given a password, the backup is encrypted as iOS 10.2 and later encrypt it: a keybag of random
 * class keys wrapped (RFC 3394) under PBKDF2-SHA256 then PBKDF2-SHA1 of the password, Manifest.db
 * AES-256-CBC under the ManifestKey, each file under its own key, wrapped in its MBFile record.
 */
import { createCipheriv, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, buildBinary, type PlistValue } from 'plist';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';

const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);

/** Seconds since 2001-01-01, as Core Data stores times. */
export function appleSeconds(date: Date): number {
  return (date.getTime() - APPLE_EPOCH_MS) / 1000;
}

/** Where each artifact is: its domain and relative path. */
export const IOS_ARTIFACT_FILES = {
  sms: { domain: 'HomeDomain', path: 'Library/SMS/sms.db' },
  safariHistory: { domain: 'AppDomain-com.apple.mobilesafari', path: 'Library/Safari/History.db' },
  safariBrowserState: { domain: 'AppDomain-com.apple.mobilesafari', path: 'Library/Safari/BrowserState.db' },
  dataUsage: { domain: 'WirelessDomain', path: 'Library/Databases/DataUsage.sqlite' },
  adDaily: { domain: 'HomeDomain', path: 'Library/Preferences/com.apple.osanalytics.addaily.plist' },
  tcc: { domain: 'HomeDomain', path: 'Library/TCC/TCC.db' },
  whatsapp: { domain: 'AppDomainGroup-group.net.whatsapp.WhatsApp.shared', path: 'ChatStorage.sqlite' },
  profiles: {
    domain: 'SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles',
    path: 'Library/ConfigurationProfiles',
  },
} as const;

export interface SmsFixture {
  text: string | null;
  /** The phone number or e-mail address of the other side. */
  handle?: string;
  at: Date;
  /** How `date` is stored: nanoseconds since 2001 (iOS 11+, the default) or seconds (older iOS). */
  unit?: 'ns' | 's';
  fromMe?: boolean;
  service?: 'SMS' | 'iMessage';
  /** An `attributedBody` blob to store (iOS 16+ keeps the text only there). */
  attributedBody?: Uint8Array;
}

export interface SmsAttachmentFixture {
  /** As sms.db writes it: `~/Library/SMS/Attachments/…` or an absolute path. */
  filename: string;
  transferName?: string;
  mimeType?: string | null;
  at: Date;
  bytes?: number;
}

export interface SafariVisitFixture {
  url: string;
  title?: string;
  at: Date;
  /** The index, in the same list, of the visit that redirected to this one. */
  redirectedFrom?: number;
}

export interface SafariTabFixture {
  url: string;
  userVisibleUrl?: string;
  title?: string;
  lastViewed: Date;
}

export interface DataUsageFixture {
  /** ZPROCNAME, as iOS writes it: `bh`, `com.apple.x/123`… */
  process: string;
  bundle?: string;
  first: Date;
  last: Date;
  /** A ZLIVEUSAGE row for the process. */
  usage?: { at: Date; wifiIn: number; wifiOut: number; wwanIn: number; wwanOut: number };
}

export interface AdDailyFixture {
  process: string;
  at: Date;
  counts?: [number, number, number, number];
}

export interface ProfileFixture {
  uuid: string;
  identifier: string;
  displayName: string;
  installed: Date;
  /** UUIDs of its payloads (PayloadContent entries). */
  payloads?: { type: string; uuid: string }[];
  /** Stored as an XML plist rather than a binary one. */
  xml?: boolean;
}

export interface TccFixture {
  service: string;
  client: string;
  /** 0: a bundle id, 1: a path. */
  clientType?: 0 | 1;
  /** 0 denied, 2 allowed, 3 limited. */
  authValue: number;
  modified: Date;
}

export interface ObservationFixture {
  domain: string;
  lastSeen: Date;
  interacted?: boolean;
  /** The app whose WebKit saw it (its bundle id); Safari by default. */
  app?: string;
}

export interface WebsiteDataFixture {
  /** The app's bundle id. */
  app: string;
  /** The path under `Library/WebKit/WebsiteData/`. */
  path: string;
  created: Date;
}

export interface WhatsAppFixture {
  text?: string;
  at: Date;
  from?: string;
  to?: string;
  mediaUrl?: string;
}

/** Any file, with its content (bytes or text), or a folder (no content, flags 2). */
export interface RawFileFixture {
  domain: string;
  path: string;
  content?: Uint8Array | string;
  folder?: boolean;
  created?: Date;
}

export interface DeviceFixture {
  name: string;
  productType: string;
  productVersion: string;
  buildVersion: string;
  serial: string;
  imei: string;
  udid: string;
  lastBackup: Date;
}

export interface IosBackupFixture {
  device?: Partial<DeviceFixture>;
  /** Bundle ids of installed apps (Info.plist and Manifest.plist). */
  apps?: string[];
  sms?: SmsFixture[];
  attachments?: SmsAttachmentFixture[];
  safariVisits?: SafariVisitFixture[];
  safariTabs?: SafariTabFixture[];
  dataUsage?: DataUsageFixture[];
  adDaily?: AdDailyFixture[];
  profiles?: ProfileFixture[];
  tcc?: TccFixture[];
  observations?: ObservationFixture[];
  websiteData?: WebsiteDataFixture[];
  whatsapp?: WhatsAppFixture[];
  files?: RawFileFixture[];
  /**
   * Manifest.plist says so, and its keybag and Manifest.db are random bytes: a backup that looks
   * encrypted (write a genuinely encrypted one by giving `writeIosBackup` a password).
   */
  encrypted?: boolean;
  /** Manifest.plist as XML rather than binary. */
  xmlManifestPlist?: boolean;
  /** Contents at `<fileID>` rather than `<fileID[0..2]>/<fileID>`, as some older backups. */
  flat?: boolean;
}

export const DEFAULT_DEVICE: DeviceFixture = {
  name: 'Test iPhone',
  productType: 'iPhone14,2',
  productVersion: '16.3.1',
  buildVersion: '20D67',
  serial: 'F2LXK0AAAAAA',
  imei: '356789104567890',
  udid: '00008110-001A2B3C4D5E6F70',
  lastBackup: new Date('2023-03-01T10:00:00Z'),
};

const T = (iso: string) => new Date(iso);

/**
 * A backup with every artifact present and nothing an indicator names: Apple's and common sites,
 * Apple's processes, an ordinary configuration profile.
 */
export const CLEAN_IOS_BACKUP: IosBackupFixture = {
  apps: ['com.apple.mobilesafari', 'net.whatsapp.WhatsApp', 'org.wikipedia'],
  sms: [
    { text: 'Your code is 123456', handle: '+33612345678', at: T('2023-01-05T08:00:00Z') },
    {
      text: 'See https://www.wikipedia.org/ tonight',
      handle: 'friend@example.org',
      at: T('2023-01-06T19:30:00Z'),
      service: 'iMessage',
    },
    { text: 'ok', handle: '+33612345678', at: T('2023-01-06T19:31:00Z'), fromMe: true, unit: 's' },
  ],
  attachments: [
    {
      filename: '~/Library/SMS/Attachments/1a/10/8D3B/IMG_0001.jpeg',
      transferName: 'IMG_0001.jpeg',
      mimeType: 'image/jpeg',
      at: T('2023-01-06T19:30:00Z'),
      bytes: 123456,
    },
  ],
  safariVisits: [
    { url: 'https://www.apple.com/', title: 'Apple', at: T('2023-01-07T09:00:00Z') },
    { url: 'https://en.wikipedia.org/wiki/Main_Page', title: 'Wikipedia', at: T('2023-01-07T09:05:00Z') },
  ],
  safariTabs: [
    {
      url: 'https://en.wikipedia.org/wiki/Main_Page',
      title: 'Wikipedia',
      lastViewed: T('2023-01-07T09:06:00Z'),
    },
  ],
  dataUsage: [
    {
      process: 'mDNSResponder',
      first: T('2022-12-01T00:00:00Z'),
      last: T('2023-02-01T00:00:00Z'),
      usage: { at: T('2023-02-01T00:00:00Z'), wifiIn: 1000, wifiOut: 500, wwanIn: 10, wwanOut: 5 },
    },
    {
      process: 'com.apple.mobilesafari',
      bundle: 'com.apple.mobilesafari',
      first: T('2022-12-01T00:00:00Z'),
      last: T('2023-02-01T00:00:00Z'),
    },
  ],
  adDaily: [{ process: 'com.apple.WebKit.Networking', at: T('2023-02-01T00:00:00Z'), counts: [1, 2, 3, 4] }],
  profiles: [
    {
      uuid: '9A0B3C1D-2E4F-4A5B-8C6D-7E8F9A0B1C2D',
      identifier: 'org.example.wifi',
      displayName: 'Office Wi-Fi',
      installed: T('2022-11-20T12:00:00Z'),
      payloads: [{ type: 'com.apple.wifi.managed', uuid: '1B2C3D4E-5F60-4718-9A0B-C1D2E3F4A5B6' }],
    },
  ],
  tcc: [
    {
      service: 'kTCCServiceCamera',
      client: 'net.whatsapp.WhatsApp',
      authValue: 2,
      modified: T('2022-12-24T10:00:00Z'),
    },
  ],
  observations: [{ domain: 'wikipedia.org', lastSeen: T('2023-01-07T09:05:00Z'), interacted: true }],
  websiteData: [
    {
      app: 'com.apple.mobilesafari',
      path: 'LocalStorage/https_en.wikipedia.org_0.localstorage',
      created: T('2023-01-07T09:05:00Z'),
    },
  ],
  whatsapp: [
    { text: 'Hello', at: T('2023-01-08T12:00:00Z'), from: '33612345678@s.whatsapp.net' },
    {
      at: T('2023-01-08T12:01:00Z'),
      from: '33612345678@s.whatsapp.net',
      mediaUrl: 'https://mmg.whatsapp.net/d/f/abc.enc',
    },
  ],
  files: [
    { domain: 'HomeDomain', path: 'Library/Preferences/com.apple.Preferences.plist', content: 'bplist00' },
  ],
};

/** The fileID iOS gives a file: the SHA-1 of `<domain>-<relativePath>`. */
export function fileIdOf(domain: string, relativePath: string): string {
  return createHash('sha1').update(`${domain}-${relativePath}`).digest('hex');
}

/** Where a backup made by this builder keeps the content of a file. */
export function backupContentPath(root: string, domain: string, relativePath: string, flat = false): string {
  const id = fileIdOf(domain, relativePath);
  return flat ? join(root, id) : join(root, id.slice(0, 2), id);
}

/** How `writeIosBackup` encrypts a backup. */
export interface IosBackupEncryption {
  password: string;
  /** PBKDF2-HMAC-SHA256 iterations (`DPIC`): iOS uses 10,000,000; 100 by default, to stay quick. */
  iterations?: number;
  /** PBKDF2-HMAC-SHA1 iterations (`ITER`): 10 by default. */
  sha1Iterations?: number;
}

/** The protection classes of a backup keybag's class keys. */
export const KEYBAG_CLASSES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** The protection class of the ManifestKey. */
export const MANIFEST_CLASS = 4;
/** The protection class every file is written with (3: until the first unlock after a restart). */
export const FILE_CLASS = 3;

/** One keybag TLV record: a 4-letter tag, a 4-byte big-endian length, the value (integers: 4 bytes). */
export function keybagRecord(tag: string, value: Uint8Array | number): Buffer {
  const bytes = typeof value === 'number' ? Buffer.alloc(4) : Buffer.from(value);
  if (typeof value === 'number') bytes.writeUInt32BE(value);
  const head = Buffer.alloc(8);
  head.write(tag, 0, 'latin1');
  head.writeUInt32BE(bytes.byteLength, 4);
  return Buffer.concat([head, bytes]);
}

/** RFC 3394 AES key wrap under a 256-bit key. */
export function aesWrap(kek: Uint8Array, key: Uint8Array): Buffer {
  const cipher = createCipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  return Buffer.concat([cipher.update(key), cipher.final()]);
}

/**
 * A backup keybag as iOS writes it, with random class keys wrapped under the key derived from
 * `password`; `classKeys` are the unwrapped ones.
 */
export function buildBackupKeybag(
  password: string,
  options: { iterations?: number; sha1Iterations?: number } = {},
): { keybag: Buffer; classKeys: Map<number, Buffer> } {
  const dpsl = randomBytes(20);
  const salt = randomBytes(20);
  const dpic = options.iterations ?? 100;
  const iter = options.sha1Iterations ?? 10;
  const stage1 = pbkdf2Sync(Buffer.from(password, 'utf8'), dpsl, dpic, 32, 'sha256');
  const passwordKey = pbkdf2Sync(stage1, salt, iter, 32, 'sha1');
  const classKeys = new Map(KEYBAG_CLASSES.map((c) => [c, randomBytes(32)]));
  const keybag = Buffer.concat([
    keybagRecord('VERS', 4),
    keybagRecord('TYPE', 1),
    keybagRecord('UUID', randomBytes(16)),
    keybagRecord('HMCK', randomBytes(40)),
    keybagRecord('WRAP', 0),
    keybagRecord('SALT', salt),
    keybagRecord('ITER', iter),
    keybagRecord('DPWT', 1),
    keybagRecord('DPIC', dpic),
    keybagRecord('DPSL', dpsl),
    ...[...classKeys].flatMap(([protectionClass, key]) => [
      keybagRecord('UUID', randomBytes(16)),
      keybagRecord('CLAS', protectionClass),
      keybagRecord('WRAP', 2),
      keybagRecord('KTYP', protectionClass === 2 ? 1 : 0),
      keybagRecord('WPKY', aesWrap(passwordKey, key)),
    ]),
  ]);
  return { keybag, classKeys };
}

/** AES-256-CBC with a zero IV and PKCS#7 padding, as a backup encrypts Manifest.db and each file. */
function aesCbc(key: Uint8Array, plain: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-cbc', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(plain), cipher.final()]);
}

/** The keys of an encrypted backup being written. */
class BackupCipher {
  readonly keybag: Buffer;
  readonly manifestKey: Buffer;
  private readonly classKeys: Map<number, Buffer>;
  private readonly dbKey = randomBytes(32);

  constructor(encryption: IosBackupEncryption) {
    ({ keybag: this.keybag, classKeys: this.classKeys } = buildBackupKeybag(encryption.password, encryption));
    this.manifestKey = Buffer.concat([
      classPrefix(MANIFEST_CLASS),
      aesWrap(this.classKey(MANIFEST_CLASS), this.dbKey),
    ]);
  }

  manifestDb(plain: Uint8Array): Buffer {
    return aesCbc(this.dbKey, plain);
  }

  /** The file's ciphertext, and its `EncryptionKey`: the class, then its own key wrapped under the class key. */
  file(plain: Uint8Array): { ciphertext: Buffer; encryptionKey: Buffer } {
    const key = randomBytes(32);
    return {
      ciphertext: aesCbc(key, plain),
      encryptionKey: Buffer.concat([classPrefix(FILE_CLASS), aesWrap(this.classKey(FILE_CLASS), key)]),
    };
  }

  private classKey(protectionClass: number): Buffer {
    return this.classKeys.get(protectionClass)!;
  }
}

function classPrefix(protectionClass: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(protectionClass);
  return prefix;
}

/**
 * Writes the backup `fixture` describes into `dir` (created if needed) and returns `dir`; encrypted
 * with `encryption.password` when given.
 */
export async function writeIosBackup(
  dir: string,
  fixture: IosBackupFixture = {},
  encryption?: IosBackupEncryption,
): Promise<string> {
  const SQL = await initSqlJs();
  const cipher = encryption === undefined ? undefined : new BackupCipher(encryption);
  const fake = fixture.encrypted === true && cipher === undefined;
  const device = { ...DEFAULT_DEVICE, ...fixture.device };
  const apps = fixture.apps ?? [];
  mkdirSync(dir, { recursive: true });

  writeFileSync(
    join(dir, 'Info.plist'),
    build({
      'Build Version': device.buildVersion,
      'Device Name': device.name,
      'Display Name': device.name,
      GUID: '0123456789ABCDEF0123456789ABCDEF',
      IMEI: device.imei,
      'Installed Applications': apps,
      'Last Backup Date': device.lastBackup,
      'Product Name': 'iPhone 13',
      'Product Type': device.productType,
      'Product Version': device.productVersion,
      'Serial Number': device.serial,
      'Target Identifier': device.udid,
      'Target Type': 'Device',
      'Unique Identifier': device.udid,
      'iTunes Version': '12.12.7',
    }),
  );
  const manifestPlist: PlistValue = {
    BackupKeyBag: cipher
      ? new Uint8Array(cipher.keybag)
      : fake
        ? new Uint8Array(randomBytes(64))
        : new Uint8Array(0),
    Version: '10.0',
    Date: device.lastBackup,
    SystemDomainsVersion: '24.0',
    WasPasscodeSet: true,
    IsEncrypted: fake || cipher !== undefined,
    ...(cipher ? { ManifestKey: new Uint8Array(cipher.manifestKey) } : {}),
    ...(fake ? { ManifestKey: new Uint8Array(randomBytes(44)) } : {}),
    Applications: Object.fromEntries(
      apps.map((id) => [
        id,
        { CFBundleIdentifier: id, CFBundleVersion: '1.0', ContainerContentClass: 'Data/Application' },
      ]),
    ),
    Lockdown: {
      DeviceName: device.name,
      ProductType: device.productType,
      ProductVersion: device.productVersion,
      BuildVersion: device.buildVersion,
      SerialNumber: device.serial,
      UniqueDeviceID: device.udid,
    },
  };
  writeFileSync(
    join(dir, 'Manifest.plist'),
    fixture.xmlManifestPlist ? build(manifestPlist) : buildBinary(manifestPlist),
  );
  writeFileSync(
    join(dir, 'Status.plist'),
    buildBinary({
      BackupState: 'new',
      Date: device.lastBackup,
      IsFullBackup: false,
      SnapshotState: 'finished',
      UUID: 'B6C1F2E0-1D2C-4B3A-9F8E-7D6C5B4A3928',
      Version: '3.3',
    }),
  );

  if (fake) {
    // An encrypted Manifest.db is AES ciphertext: to a reader without the key, random bytes.
    writeFileSync(join(dir, 'Manifest.db'), randomBytes(4096));
    return dir;
  }

  const manifest = new Manifest(dir, fixture.flat === true, cipher);
  const files = IOS_ARTIFACT_FILES;
  const latest = (dates: Date[]) => new Date(Math.max(...dates.map((d) => d.getTime()), APPLE_EPOCH_MS));

  if (fixture.sms !== undefined || fixture.attachments !== undefined) {
    const sms = fixture.sms ?? [];
    const attachments = fixture.attachments ?? [];
    manifest.add(
      files.sms.domain,
      files.sms.path,
      database(SQL, SMS_SCHEMA, (db) => {
        const handles = new Map<string, number>();
        for (const message of sms) {
          let handleId = 0;
          if (message.handle !== undefined) {
            handleId = handles.get(message.handle) ?? handles.size + 1;
            if (!handles.has(message.handle)) {
              handles.set(message.handle, handleId);
              db.run('INSERT INTO handle (ROWID, id, country, service) VALUES (?, ?, ?, ?)', [
                handleId,
                message.handle,
                'fr',
                message.service ?? 'SMS',
              ]);
            }
          }
          const seconds = appleSeconds(message.at);
          db.run(
            `INSERT INTO message (guid, text, handle_id, service, date, is_from_me, attributedBody)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
            [
              randomBytes(16).toString('hex'),
              message.text,
              handleId,
              message.service ?? 'SMS',
              message.unit === 's' ? seconds : seconds * 1e9,
              message.fromMe ? 1 : 0,
              message.attributedBody ?? null,
            ],
          );
        }
        for (const attachment of attachments)
          db.run(
            `INSERT INTO attachment (guid, created_date, filename, mime_type, transfer_name, total_bytes)
             VALUES (?, ?, ?, ?, ?, ?)`,
            [
              randomBytes(16).toString('hex'),
              appleSeconds(attachment.at),
              attachment.filename,
              attachment.mimeType === undefined ? 'application/octet-stream' : attachment.mimeType,
              attachment.transferName ?? null,
              attachment.bytes ?? 0,
            ],
          );
      }),
      latest([...sms.map((m) => m.at), ...attachments.map((a) => a.at)]),
    );
  }

  if (fixture.safariVisits !== undefined) {
    const visits = fixture.safariVisits;
    manifest.add(
      files.safariHistory.domain,
      files.safariHistory.path,
      database(SQL, HISTORY_SCHEMA, (db) => {
        const items = new Map<string, number>();
        visits.forEach((visit, index) => {
          if (!items.has(visit.url)) {
            items.set(visit.url, items.size + 1);
            db.run('INSERT INTO history_items (id, url, visit_count) VALUES (?, ?, 0)', [
              items.size,
              visit.url,
            ]);
          }
          db.run('UPDATE history_items SET visit_count = visit_count + 1 WHERE id = ?', [
            items.get(visit.url)!,
          ]);
          const source = visit.redirectedFrom === undefined ? null : visit.redirectedFrom + 1;
          db.run(
            `INSERT INTO history_visits (id, history_item, visit_time, title, redirect_source)
             VALUES (?, ?, ?, ?, ?)`,
            [index + 1, items.get(visit.url)!, appleSeconds(visit.at), visit.title ?? null, source],
          );
          if (source !== null)
            db.run('UPDATE history_visits SET redirect_destination = ? WHERE id = ?', [index + 1, source]);
        });
      }),
      latest(visits.map((v) => v.at)),
    );
  }

  if (fixture.safariTabs !== undefined) {
    const tabs = fixture.safariTabs;
    manifest.add(
      files.safariBrowserState.domain,
      files.safariBrowserState.path,
      database(SQL, BROWSER_STATE_SCHEMA, (db) => {
        tabs.forEach((tab, index) =>
          db.run(
            `INSERT INTO tabs (uuid, title, url, user_visible_url, last_viewed_time, order_index, private_browsing)
             VALUES (?, ?, ?, ?, ?, ?, 0)`,
            [
              randomBytes(16).toString('hex'),
              tab.title ?? null,
              tab.url,
              tab.userVisibleUrl ?? tab.url,
              appleSeconds(tab.lastViewed),
              index,
            ],
          ),
        );
      }),
      latest(tabs.map((t) => t.lastViewed)),
    );
  }

  if (fixture.dataUsage !== undefined) {
    const processes = fixture.dataUsage;
    manifest.add(
      files.dataUsage.domain,
      files.dataUsage.path,
      database(SQL, DATA_USAGE_SCHEMA, (db) => {
        processes.forEach((entry, index) => {
          db.run(
            `INSERT INTO ZPROCESS (Z_PK, Z_ENT, Z_OPT, ZFIRSTTIMESTAMP, ZTIMESTAMP, ZPROCNAME, ZBUNDLENAME)
             VALUES (?, 5, 1, ?, ?, ?, ?)`,
            [
              index + 1,
              appleSeconds(entry.first),
              appleSeconds(entry.last),
              entry.process,
              entry.bundle ?? null,
            ],
          );
          if (entry.usage !== undefined)
            db.run(
              `INSERT INTO ZLIVEUSAGE (Z_ENT, Z_OPT, ZKIND, ZHASPROCESS, ZTIMESTAMP, ZWIFIIN, ZWIFIOUT, ZWWANIN, ZWWANOUT)
               VALUES (3, 1, 0, ?, ?, ?, ?, ?, ?)`,
              [
                index + 1,
                appleSeconds(entry.usage.at),
                entry.usage.wifiIn,
                entry.usage.wifiOut,
                entry.usage.wwanIn,
                entry.usage.wwanOut,
              ],
            );
        });
      }),
      latest(processes.map((p) => p.last)),
    );
  }

  if (fixture.adDaily !== undefined) {
    manifest.add(
      files.adDaily.domain,
      files.adDaily.path,
      buildBinary({
        netUsageBaseline: Object.fromEntries(
          fixture.adDaily.map((entry) => [entry.process, [entry.at, ...(entry.counts ?? [0, 0, 0, 0])]]),
        ),
      }),
      latest(fixture.adDaily.map((e) => e.at)),
    );
  }

  if (fixture.profiles !== undefined) {
    manifest.folder(files.profiles.domain, files.profiles.path);
    for (const profile of fixture.profiles) {
      const plist: PlistValue = {
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadUUID: profile.uuid,
        PayloadIdentifier: profile.identifier,
        PayloadDisplayName: profile.displayName,
        InstallDate: profile.installed,
        PayloadContent: (profile.payloads ?? []).map((p) => ({
          PayloadType: p.type,
          PayloadUUID: p.uuid,
          PayloadIdentifier: `${profile.identifier}.${p.type}`,
          PayloadVersion: 1,
        })),
      };
      const hash = createHash('sha256').update(profile.identifier).digest('hex');
      manifest.add(
        files.profiles.domain,
        `${files.profiles.path}/profile-${hash}.stub`,
        profile.xml ? build(plist) : buildBinary(plist),
        profile.installed,
      );
    }
    manifest.add(
      files.profiles.domain,
      `${files.profiles.path}/MCProfileEvents.plist`,
      buildBinary({
        ProfileEvents: fixture.profiles.map((p) => ({
          [p.identifier]: { operation: 'install', process: 'Preferences', timestamp: p.installed },
        })),
      }),
      latest(fixture.profiles.map((p) => p.installed)),
    );
  }

  if (fixture.tcc !== undefined) {
    const entries = fixture.tcc;
    manifest.add(
      files.tcc.domain,
      files.tcc.path,
      database(SQL, TCC_SCHEMA, (db) => {
        for (const entry of entries)
          db.run(
            `INSERT INTO access (service, client, client_type, auth_value, auth_reason, auth_version, last_modified)
             VALUES (?, ?, ?, ?, 2, 1, ?)`,
            [
              entry.service,
              entry.client,
              entry.clientType ?? 0,
              entry.authValue,
              Math.floor(entry.modified.getTime() / 1000),
            ],
          );
      }),
      latest(entries.map((e) => e.modified)),
    );
  }

  if (fixture.observations !== undefined) {
    const byApp = new Map<string, ObservationFixture[]>();
    for (const o of fixture.observations)
      byApp.set(o.app ?? 'com.apple.mobilesafari', [
        ...(byApp.get(o.app ?? 'com.apple.mobilesafari') ?? []),
        o,
      ]);
    for (const [app, observations] of byApp)
      manifest.add(
        `AppDomain-${app}`,
        'Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db',
        database(SQL, OBSERVATIONS_SCHEMA, (db) => {
          for (const o of observations)
            db.run(
              `INSERT INTO ObservedDomains (registrableDomain, lastSeen, hadUserInteraction, mostRecentUserInteractionTime)
               VALUES (?, ?, ?, ?)`,
              [
                o.domain,
                o.lastSeen.getTime() / 1000,
                o.interacted ? 1 : 0,
                o.interacted ? o.lastSeen.getTime() / 1000 : 0,
              ],
            );
        }),
        latest(observations.map((o) => o.lastSeen)),
      );
  }

  for (const data of fixture.websiteData ?? [])
    manifest.add(
      `AppDomain-${data.app}`,
      `Library/WebKit/WebsiteData/${data.path}`,
      randomBytes(64),
      data.created,
    );

  if (fixture.whatsapp !== undefined) {
    const messages = fixture.whatsapp;
    manifest.add(
      files.whatsapp.domain,
      files.whatsapp.path,
      database(SQL, WHATSAPP_SCHEMA, (db) => {
        messages.forEach((message, index) => {
          let media: number | null = null;
          if (message.mediaUrl !== undefined) {
            media = index + 1;
            db.run(
              'INSERT INTO ZWAMEDIAITEM (Z_PK, Z_ENT, Z_OPT, ZMESSAGE, ZMEDIAURL) VALUES (?, 9, 1, ?, ?)',
              [media, index + 1, message.mediaUrl],
            );
          }
          db.run(
            `INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZMEDIAITEM, ZMESSAGEDATE, ZFROMJID, ZTEXT, ZTOJID)
             VALUES (?, 10, 1, ?, ?, ?, ?, ?, ?, ?)`,
            [
              index + 1,
              message.from === undefined ? 1 : 0,
              media === null ? 0 : 1,
              media,
              appleSeconds(message.at),
              message.from ?? null,
              message.text ?? null,
              message.to ?? null,
            ],
          );
        });
      }),
      latest(messages.map((m) => m.at)),
    );
  }

  for (const file of fixture.files ?? []) {
    if (file.folder) manifest.folder(file.domain, file.path, file.created);
    else
      manifest.add(
        file.domain,
        file.path,
        file.content ?? new Uint8Array(0),
        file.created ?? new Date(APPLE_EPOCH_MS),
      );
  }

  manifest.write(SQL);
  return dir;
}

/** Manifest.db as it is being filled, and the contents written beside it. */
class Manifest {
  private readonly rows = new Map<
    string,
    { domain: string; path: string; flags: number; created: Date; size: number; encryptionKey?: Uint8Array }
  >();

  constructor(
    private readonly dir: string,
    private readonly flat: boolean,
    private readonly cipher?: BackupCipher,
  ) {}

  /** Lists a file (and the folders above it, as iOS does) and writes its content. */
  add(domain: string, path: string, content: Uint8Array | string, created: Date): void {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) this.folder(domain, parts.slice(0, i).join('/'), created);
    const encrypted = this.cipher?.file(bytes);
    this.rows.set(fileIdOf(domain, path), {
      domain,
      path,
      flags: 1,
      created,
      size: bytes.byteLength,
      encryptionKey: encrypted?.encryptionKey,
    });
    const target = backupContentPath(this.dir, domain, path, this.flat);
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileSync(target, encrypted?.ciphertext ?? bytes);
  }

  folder(domain: string, path: string, created = new Date(APPLE_EPOCH_MS)): void {
    const id = fileIdOf(domain, path);
    if (!this.rows.has(id)) this.rows.set(id, { domain, path, flags: 2, created, size: 0 });
  }

  write(SQL: SqlJsStatic): void {
    const bytes = database(SQL, MANIFEST_SCHEMA, (db) => {
      for (const [id, row] of this.rows)
        db.run('INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?, ?, ?, ?, ?)', [
          id,
          row.domain,
          row.path,
          row.flags,
          mbFile(row.path, row.flags, row.created, row.size, row.encryptionKey),
        ]);
    });
    writeFileSync(join(this.dir, 'Manifest.db'), this.cipher?.manifestDb(bytes) ?? bytes);
  }
}

/**
 * A file's record as Manifest.db keeps it: an MBFile archived by NSKeyedArchiver (`$top.root`
 * pointing into `$objects`), with Unix times in seconds; in an encrypted backup, `EncryptionKey`
 * points to an NSData of the file's class and wrapped key.
 */
function mbFile(
  path: string,
  flags: number,
  created: Date,
  size: number,
  encryptionKey?: Uint8Array,
): Uint8Array {
  const seconds = Math.floor(created.getTime() / 1000);
  return buildBinary({
    $version: 100000,
    $archiver: 'NSKeyedArchiver',
    $top: { root: { UID: 1 } },
    $objects: [
      '$null',
      {
        $class: { UID: 3 },
        Birth: seconds,
        LastModified: seconds,
        LastStatusChange: seconds,
        Size: size,
        Mode: flags === 2 ? 0o40755 : 0o100644,
        UserID: 501,
        GroupID: 501,
        InodeNumber: 12345,
        ProtectionClass: FILE_CLASS,
        Flags: 0,
        RelativePath: { UID: 2 },
        ...(encryptionKey ? { EncryptionKey: { UID: 4 } } : {}),
      },
      path,
      { $classname: 'MBFile', $classes: ['MBFile', 'NSObject'] },
      ...(encryptionKey
        ? [
            { 'NS.data': encryptionKey, $class: { UID: 5 } },
            { $classname: 'NSMutableData', $classes: ['NSMutableData', 'NSData', 'NSObject'] },
          ]
        : []),
    ],
  });
}

function database(SQL: SqlJsStatic, schema: string, fill: (db: Database) => void): Uint8Array {
  const db = new SQL.Database();
  try {
    db.exec(schema);
    fill(db);
    return db.export();
  } finally {
    db.close();
  }
}

const MANIFEST_SCHEMA = `
CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
CREATE INDEX FilesDomainIdx ON Files(domain);
CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
CREATE INDEX FilesFlagsIdx ON Files(flags);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
`;

const SMS_SCHEMA = `
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
  service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
  replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
  attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
  error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0,
  is_finished INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
  cache_has_attachments INTEGER DEFAULT 0);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,
  transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,
  total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
  attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
  state INTEGER, account_id TEXT, chat_identifier TEXT, service_name TEXT);
`;

const HISTORY_SCHEMA = `
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE,
  domain_expansion TEXT NULL, visit_count INTEGER NOT NULL, daily_visit_counts BLOB NULL,
  weekly_visit_counts BLOB NULL, autocomplete_triggers BLOB NULL,
  should_recompute_derived_visit_counts INTEGER NOT NULL DEFAULT 0, visit_count_score INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,
  history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE, visit_time REAL NOT NULL,
  title TEXT NULL, load_successful BOOLEAN NOT NULL DEFAULT 1, http_non_get BOOLEAN NOT NULL DEFAULT 0,
  synthesized BOOLEAN NOT NULL DEFAULT 0,
  redirect_source INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE,
  redirect_destination INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE,
  origin INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0, attributes INTEGER NOT NULL DEFAULT 0,
  score INTEGER NOT NULL DEFAULT 0);
`;

const BROWSER_STATE_SCHEMA = `
CREATE TABLE tabs (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, title TEXT, url TEXT,
  user_visible_url TEXT, last_viewed_time REAL, order_index INTEGER, browser_window_id INTEGER,
  private_browsing INTEGER NOT NULL DEFAULT 0, opened_from_link INTEGER DEFAULT 0);
`;

const DATA_USAGE_SCHEMA = `
CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFIRSTTIMESTAMP TIMESTAMP,
  ZTIMESTAMP TIMESTAMP, ZPROCNAME VARCHAR, ZBUNDLENAME VARCHAR);
CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER,
  ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZTIMESTAMP TIMESTAMP, ZWIFIIN FLOAT, ZWIFIOUT FLOAT,
  ZWWANIN FLOAT, ZWWANOUT FLOAT);
CREATE INDEX ZLIVEUSAGE_ZHASPROCESS_INDEX ON ZLIVEUSAGE (ZHASPROCESS);
`;

const TCC_SCHEMA = `
CREATE TABLE access (service TEXT NOT NULL, client TEXT NOT NULL, client_type INTEGER NOT NULL,
  auth_value INTEGER NOT NULL, auth_reason INTEGER NOT NULL, auth_version INTEGER NOT NULL, csreq BLOB,
  policy_id INTEGER, indirect_object_identifier_type INTEGER,
  indirect_object_identifier TEXT NOT NULL DEFAULT 'UNUSED', indirect_object_code_identity BLOB,
  flags INTEGER, last_modified INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)),
  PRIMARY KEY (service, client, client_type, indirect_object_identifier));
`;

const OBSERVATIONS_SCHEMA = `
CREATE TABLE ObservedDomains (domainID INTEGER PRIMARY KEY, registrableDomain TEXT NOT NULL UNIQUE ON CONFLICT FAIL,
  lastSeen REAL NOT NULL, hadUserInteraction INTEGER NOT NULL, mostRecentUserInteractionTime REAL NOT NULL,
  grandfathered INTEGER NOT NULL DEFAULT 0, isPrevalent INTEGER NOT NULL DEFAULT 0,
  isVeryPrevalent INTEGER NOT NULL DEFAULT 0, dataRecordsRemoved INTEGER NOT NULL DEFAULT 0,
  timesAccessedAsFirstPartyDueToUserInteraction INTEGER NOT NULL DEFAULT 0,
  timesAccessedAsFirstPartyDueToStorageAccessAPI INTEGER NOT NULL DEFAULT 0);
`;

const WHATSAPP_SCHEMA = `
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISFROMME INTEGER,
  ZMESSAGETYPE INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR,
  ZTEXT VARCHAR, ZTOJID VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMESSAGE INTEGER,
  ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTITLE VARCHAR);
`;

/**
 * An `attributedBody` as iOS 16+ writes it: an NSAttributedString in NSArchiver's typedstream, the
 * string's UTF-8 bytes after `NSString`, `+` and their length, in one byte below 0x80, or after
 * 0x81 in two bytes (`form` 0x81, or when longer), or after 0x82 in four (`form` 0x82).
 */
export function attributedBody(text: string | Uint8Array, form: 0 | 0x81 | 0x82 = 0): Uint8Array {
  const utf8 = Buffer.from(text);
  const length =
    form === 0 && utf8.length < 0x80
      ? Buffer.from([utf8.length])
      : form === 0x82
        ? Buffer.from([0x82, ...new Uint8Array(new Uint32Array([utf8.length]).buffer)])
        : Buffer.from([0x81, utf8.length & 0xff, utf8.length >> 8]);
  return Buffer.concat([
    Buffer.from(
      '\u0004\u000bstreamtyped\u0081\u00e8\u0003\u0084\u0001@\u0084\u0084\u0084\u0012NSAttributedString\u0000',
      'latin1',
    ),
    Buffer.from(
      '\u0084\u0084\u0008NSObject\u0000\u0085\u0092\u0084\u0084\u0084\u0008NSString\u0001\u0094\u0084\u0001+',
      'latin1',
    ),
    length,
    utf8,
    Buffer.from('\u0086\u0084\u0002iI\u0001\u0025\u0092', 'latin1'),
  ]);
}
