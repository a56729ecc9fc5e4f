/**
 * Android artifacts for the spyware check's tests: the bug report of a Pixel 6 on Android 13, as
 * `adb bugreport` writes it (a zip with `main_entry.txt`, `version.txt`, the dumpstate text and
 * `FS/`), or extracted to a folder, and an androidqf acquisition of the same phone; both clean, or
 * with traces of spyware planted: a system property, an app installed outside the Play Store that
 * listens for text messages, uses the camera and microphone and is an accessibility service, a
 * process, a file, a domain in the log and in a database statement.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';

/** Traces to plant; none by default. */
export interface AndroidPlants {
  /** A system property the spyware sets (android_campaign_2023's `sys.brand.note`). */
  property?: string;
  /** An app installed from a file, not a store (NoviSpy's `com.gu.activity`). */
  app?: {
    id: string;
    /** `2024-04-28 21:40:12`, the phone's clock. */
    installedAt: string;
    /** The app that installed it: the package installer (the user opened an APK) by default. */
    installer?: string;
    /** androidqf: the digest of its APK and of its signing certificate. */
    sha256?: string;
    certificateSha256?: string;
  };
  /** A process running, by name or path (`/data/local/tmp/dropbox`). */
  process?: string;
  /** A file of the phone copied under FS/ (`/data/local/tmp/wd/fs.db`). */
  file?: string;
  /** A domain in the log and in a messaging database statement. */
  domain?: string;
  /**
   * An app installed then removed, that only the battery statistics remember (NoviSpy's
   * `com.serv.services`), with its install and removal times.
   */
  removedApp?: { id: string; installedAt: string; removedAt: string };
}

/** A bug report's parts. */
export interface BugreportFixture {
  mainName: string;
  text: string;
  /** The files under FS/, by their path on the phone. */
  files: Record<string, string>;
}

const TAKEN_AT = '2024-05-02 10:15:30';

interface FixturePackage {
  id: string;
  version: string;
  versionCode: number;
  codePath: string;
  installer: string | null;
  installedAt: string;
  updatedAt: string;
  flags: string[];
}

const SYSTEM_FLAGS = ['SYSTEM', 'HAS_CODE', 'ALLOW_CLEAR_USER_DATA'];
const USER_FLAGS = ['HAS_CODE', 'ALLOW_CLEAR_USER_DATA', 'ALLOW_BACKUP'];
const FIRST_BOOT = '2023-02-11 08:02:17';

const PACKAGES: FixturePackage[] = [
  {
    id: 'android',
    version: '13',
    versionCode: 33,
    codePath: '/system/framework/framework-res.apk',
    installer: null,
    installedAt: FIRST_BOOT,
    updatedAt: FIRST_BOOT,
    flags: [...SYSTEM_FLAGS, 'PERSISTENT'],
  },
  {
    id: 'com.android.settings',
    version: '13',
    versionCode: 33,
    codePath: '/system_ext/priv-app/SettingsGoogle',
    installer: null,
    installedAt: FIRST_BOOT,
    updatedAt: FIRST_BOOT,
    flags: SYSTEM_FLAGS,
  },
  {
    id: 'com.google.android.apps.messaging',
    version: 'messages.android_20240415_00_RC01.phone_dynamic',
    versionCode: 189384086,
    codePath:
      '/data/app/~~mB3vQ8sK2pZ1aX0wYtRr4g==/com.google.android.apps.messaging-Hq2VZ0c9yX1lJ7Pp3T5tLw==',
    installer: 'com.android.vending',
    installedAt: FIRST_BOOT,
    updatedAt: '2024-04-19 03:12:55',
    flags: [...SYSTEM_FLAGS, 'UPDATED_SYSTEM_APP'],
  },
  {
    id: 'com.google.android.marvin.talkback',
    version: '14.1.0.560093045',
    versionCode: 60149773,
    codePath: '/product/app/talkback',
    installer: null,
    installedAt: FIRST_BOOT,
    updatedAt: FIRST_BOOT,
    flags: SYSTEM_FLAGS,
  },
  {
    id: 'com.whatsapp',
    version: '2.24.9.78',
    versionCode: 241097800,
    codePath: '/data/app/~~Xk3w9Q0bT6fN2cLr5uVe1A==/com.whatsapp-Lm8Zp1Rt7sKq0wEy4xNb2g==',
    installer: 'com.android.vending',
    installedAt: '2023-02-11 09:40:03',
    updatedAt: '2024-04-27 02:31:40',
    flags: USER_FLAGS,
  },
  {
    id: 'org.thoughtcrime.securesms',
    version: '7.5.2',
    versionCode: 141601,
    codePath: '/data/app/~~s9Kd2Lq0Rw3eTy7uIo1pAg==/org.thoughtcrime.securesms-Zx4Cv6Bn8Mm0Qa2Ws5Ed7g==',
    installer: 'com.android.vending',
    installedAt: '2023-06-30 17:05:44',
    updatedAt: '2024-04-25 04:02:13',
    flags: USER_FLAGS,
  },
];

function packagesOf(plants: AndroidPlants): FixturePackage[] {
  if (!plants.app) return PACKAGES;
  return [
    ...PACKAGES,
    {
      id: plants.app.id,
      version: '3.2',
      versionCode: 32,
      codePath: `/data/app/~~pT7yU2iO4aS6dF8gH0jK1w==/${plants.app.id}-Qw3Er5Ty7Ui9Op1As2Df4g==`,
      installer: plants.app.installer ?? 'com.google.android.packageinstaller',
      installedAt: plants.app.installedAt,
      updatedAt: plants.app.installedAt,
      flags: USER_FLAGS,
    },
  ];
}

function propertiesText(plants: AndroidPlants): string {
  const properties: [string, string][] = [
    ['dalvik.vm.heapsize', '512m'],
    ['gsm.version.baseband', 'g5123b-107485-221101-B-9242015'],
    ['persist.sys.timezone', 'Europe/Paris'],
    ['ro.boot.serialno', '1A051FDEE00B9X'],
    ['ro.bootloader', 'slider-1.2-9152140'],
    ['ro.build.display.id', 'TQ1A.230205.002'],
    ['ro.build.fingerprint', 'google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys'],
    ['ro.build.id', 'TQ1A.230205.002'],
    ['ro.build.type', 'user'],
    ['ro.build.version.release', '13'],
    ['ro.build.version.sdk', '33'],
    ['ro.build.version.security_patch', '2023-02-05'],
    ['ro.crypto.state', 'encrypted'],
    ['ro.product.brand', 'google'],
    ['ro.product.device', 'oriole'],
    ['ro.product.manufacturer', 'Google'],
    ['ro.product.model', 'Pixel 6'],
    ['ro.serialno', '1A051FDEE00B9X'],
    ['sys.boot_completed', '1'],
    ['sys.usb.config', 'adb'],
  ];
  if (plants.property) properties.push([plants.property, '1']);
  return properties
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `[${name}]: [${value}]`)
    .join('\n');
}

const PS_HEADER =
  'LABEL                          USER           PID   TID  PPID        VSZ    RSS WCHAN            ADDR S PRI  NI RTPRIO SCH  PCY     TIME CMD';

function psRow(label: string, user: string, pid: number, tid: number, ppid: number, cmd: string): string {
  return [
    label.padEnd(30),
    user.padEnd(10),
    String(pid).padStart(7),
    String(tid).padStart(5),
    String(ppid).padStart(5),
    '16829484'.padStart(10),
    '182040'.padStart(6),
    'do_epoll_wait'.padEnd(16),
    '0'.padStart(4),
    'S',
    ' 19   0      -   0   fg 00:00:04',
    cmd,
  ].join(' ');
}

function processesText(plants: AndroidPlants): string {
  const rows = [
    psRow('u:r:init:s0', 'root', 1, 1, 0, 'init'),
    psRow('u:r:kernel:s0', 'root', 2, 2, 0, 'kthreadd'),
    psRow('u:r:zygote:s0', 'root', 812, 812, 1, 'main'),
    psRow('u:r:system_server:s0', 'system', 1234, 1234, 812, 'system_server'),
    psRow('u:r:system_server:s0', 'system', 1234, 1250, 812, 'ActivityManager'),
    psRow('u:r:platform_app:s0:c512,c768', 'u0_a98', 2210, 2210, 812, 'com.google.android.apps.messaging'),
    psRow('u:r:untrusted_app:s0:c213,c256', 'u0_a213', 4321, 4321, 812, 'com.whatsapp'),
    psRow('u:r:untrusted_app:s0:c213,c256', 'u0_a213', 4321, 4340, 812, 'Jit thread pool'),
  ];
  if (plants.app)
    rows.push(psRow('u:r:untrusted_app:s0:c230,c256', 'u0_a230', 5120, 5120, 812, plants.app.id));
  if (plants.process) rows.push(psRow('u:r:shell:s0', 'shell', 6001, 6001, 1, plants.process));
  return [PS_HEADER, ...rows].join('\n');
}

function logcatText(plants: AndroidPlants): string {
  const lines = [
    '--------- beginning of main',
    '05-02 10:01:12.004 system  1234  1250 I ActivityManager: Start proc 4321:com.whatsapp/u0a213 for service {com.whatsapp/com.whatsapp.messaging.MessageService}',
    '05-02 10:02:40.551 u0a98   2210  2240 I Bugle  : Received SMS from +33612345678',
    '05-02 10:03:05.120 u0a213  4321  4388 I chromium: [INFO:CONSOLE(1)] "Loaded https://www.wikipedia.org/", source: (1)',
  ];
  if (plants.domain)
    lines.push(
      `05-02 10:04:41.907 u0a98   2210  2261 I chromium: [INFO:CONSOLE(12)] "Redirecting to https://${plants.domain}/r/x7Kd", source: (12)`,
    );
  return lines.join('\n');
}

function packageBlock(p: FixturePackage, hash: string): string {
  const flags = `[ ${p.flags.join(' ')} ]`;
  return `  Package [${p.id}] (${hash}):
    appId=${p.flags.includes('SYSTEM') ? 1000 : 10213}
    pkg=Package{${hash.split('').reverse().join('')} ${p.id}}
    codePath=${p.codePath}
    resourcePath=${p.codePath}
    legacyNativeLibraryDir=${p.codePath}/lib
    extractNativeLibs=false
    primaryCpuAbi=arm64-v8a
    secondaryCpuAbi=null
    cpuAbiOverride=null
    versionCode=${p.versionCode} minSdk=26 targetSdk=33
    minExtensionVersion=[]
    versionName=${p.version}
    usesNonSdkApi=false
    splits=[base]
    apkSigningVersion=2
    flags=${flags}
    privateFlags=[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION ALLOW_AUDIO_PLAYBACK_CAPTURE ]
    forceQueryable=false
    dataDir=/data/user/0/${p.id}
    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]
    timeStamp=${p.updatedAt}
    lastUpdateTime=${p.updatedAt}
    installerPackageName=${p.installer ?? 'null'}
    installerPackageUid=${p.installer === null ? -1 : 10143}
    initiatingPackageName=${p.installer ?? 'null'}
    originatingPackageName=null
    packageSource=0
    signatures=PackageSignatures{${hash} version:2, signatures:[a3f2c1d0], past signatures:[]}
    installPermissionsFixed=true
    pkgFlags=${flags}
    requested permissions:
      android.permission.INTERNET
      android.permission.READ_CONTACTS
    User 0: ceDataInode=${p.versionCode % 100000} installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false
      installReason=${p.installer === null ? 0 : 4}
      firstInstallTime=${p.installedAt}
      uninstallReason=0
      gids=[3003]
      runtime permissions:
        android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET|USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED]`;
}

function receiverEntry(component: string, hash: string, action: string, extra = ''): string {
  return `        ${hash} ${component} filter ${hash.slice(1)}f
          Action: "${action}"${extra}
          mPriority=0, mOrder=0, mHasStaticPartialTypes=false, mHasDynamicPartialTypes=false`;
}

function packageService(plants: AndroidPlants): string {
  const packages = packagesOf(plants);
  const spy = plants.app?.id;
  const smsReceivers = [
    receiverEntry(
      'com.google.android.apps.messaging/.shared.receiver.SmsReceiver',
      '3c4d5e6',
      'android.provider.Telephony.SMS_RECEIVED',
    ),
    ...(spy
      ? [receiverEntry(`${spy}/.receivers.SmsListener`, '9a8b7c6', 'android.provider.Telephony.SMS_RECEIVED')]
      : []),
  ];
  return `Database versions:
  Internal:
    sdkVersion=33 databaseVersion=3
    fingerprint=google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys

Verifiers:
  Required: com.android.vending (uid=10143)

Activity Resolver Table:
  Non-Data Actions:
      android.intent.action.MAIN:
        1a2b3c4 com.android.settings/.Settings filter 5d6e7f8
          Action: "android.intent.action.MAIN"
          Category: "android.intent.category.LAUNCHER"

Receiver Resolver Table:
  Schemes:
      sms:
${receiverEntry(
  'com.google.android.apps.messaging/.shared.receiver.SmsReceiver',
  '2b1c0d9',
  'android.intent.action.DATA_SMS_RECEIVED',
  '\n          Scheme: "sms"\n          Authority: "localhost": 65535',
)}
  Non-Data Actions:
      android.intent.action.BOOT_COMPLETED:
${receiverEntry('com.whatsapp/.BootReceiver', '7e6d5c4', 'android.intent.action.BOOT_COMPLETED')}
      android.provider.Telephony.SMS_RECEIVED:
${smsReceivers.join('\n')}
      android.intent.action.PHONE_STATE:
${receiverEntry('com.whatsapp/.calling.PhoneStateReceiver', '5f4e3d2', 'android.intent.action.PHONE_STATE')}

Service Resolver Table:
  Non-Data Actions:
      android.accessibilityservice.AccessibilityService:
        4b3a291 com.google.android.marvin.talkback/com.google.android.marvin.talkback.TalkBackService filter 0c9d8e7
          Action: "android.accessibilityservice.AccessibilityService"

Permissions:
  Permission [android.permission.READ_SMS] (e1f2a3b):
    sourcePackage=android
    uid=1000 gids=[] type=0 prot=dangerous

Key Set Manager:
  [com.whatsapp]
      Signing KeySets: 41

Packages:
${packages.map((p, i) => packageBlock(p, (0x5e3f2a1 + i * 0x1111).toString(16))).join('\n\n')}

Hidden system packages:
  Package [com.google.android.apps.messaging] (7f00aa1):
    appId=10098
    codePath=/product/app/PrebuiltBugle
    versionName=messages.android_20221108_00_RC03.phone_dynamic
    timeStamp=${FIRST_BOOT}
    installerPackageName=null

Queries:
  system apps queryable: false

Shared users:
  SharedUser [android.uid.system] (3c2b1a0):
    userId=1000

Dexopt state:
  [com.whatsapp]
    path: ${PACKAGES[4]!.codePath}/base.apk
      arm64: [status=speed-profile] [reason=bg-dexopt]`;
}

function appopsService(plants: AndroidPlants): string {
  const spy = plants.app
    ? `
  Uid u0a230:
    state=cch
    capability=----
    appWidgetVisible=false
    Package ${plants.app.id}:
      CAMERA (allow):
        null=[
          Access: [fgsvc-s] 2024-05-01 23:02:17.431 (-11h13m12s569ms) duration=+41s210ms
        ]
      RECORD_AUDIO (allow):
        null=[
          Access: [fgsvc-s] 2024-05-01 23:02:19.002 (-11h13m10s998ms) duration=+39m2s3ms
        ]
      READ_SMS (allow):
        null=[
          Access: [cch-s] 2024-05-02 09:58:03.337 (-17m26s663ms)
        ]
      REQUEST_INSTALL_PACKAGES (allow):`
    : '';
  return `Current AppOps Service state:
  Settings:
    top_state_settle_time=+5s0ms
    fg_service_state_settle_time=+5s0ms
    bg_state_settle_time=+1s0ms

  Op mode watchers:
    Op COARSE_LOCATION:
      #0: ModeCallback{b8f0c1a watchinguid=-1 flags=0x1 from uid=1000 pid=1234}

  Uid 1000:
    state=pers
    capability=LCMN
    appWidgetVisible=false
    Package android:
      WAKE_LOCK (allow):
        null=[
          Access: [pers-s] 2024-05-02 10:14:02.511 (-1m27s489ms) duration=+12ms
        ]
  Uid u0a213:
    state=cch
    capability=----
    appWidgetVisible=false
    LEGACY_STORAGE: mode=allow
    Package com.whatsapp:
      CAMERA (allow):
        null=[
          Access: [top-s] 2024-05-01 19:22:41.003 (-14h52m48s997ms) duration=+3m12s44ms
        ]
      RECORD_AUDIO (allow):
        null=[
          Access: [top-s] 2024-05-01 19:22:41.010 (-14h52m48s990ms) duration=+3m12s40ms
          Reject: [bg-s] 2024-04-30 07:00:12.000 (-2d3h15m18s)
        ]
      READ_CONTACTS (allow):${spy}`;
}

function accessibilityService(plants: AndroidPlants): string {
  const enabled = plants.app ? `{${plants.app.id}/${plants.app.id}.services.AccessService}` : '';
  const bound = plants.app
    ? 'Service[label=Services, feedbackType[FEEDBACK_GENERIC], capabilities=1, eventTypes=TYPES_ALL_MASK]'
    : '';
  return `ACCESSIBILITY MANAGER (dumpsys accessibility)

currentUserId=0
hasWindowMagnificationConnection=false
User state[
  attributes:{id=0, touchExplorationEnabled=false, serviceHandlesDoubleTap=false, displayMagnificationEnabled=false, autoclickEnabled=false, installedServiceCount=3}
  shortcut key:{}
  button target:{null}
  Bound services:{${bound}}
  Enabled services:{${enabled}}
  Binding services:{}
  Crashed services:{}
  Client list info:{
    Client[pid=1234, package=android]
  }
]
installed services: {
  0 : com.google.android.marvin.talkback/com.android.switchaccess.SwitchAccessService
  1 : com.google.android.marvin.talkback/com.android.selecttospeak.SelectToSpeakService
  2 : com.google.android.marvin.talkback/com.google.android.marvin.talkback.TalkBackService${plants.app ? `\n  3 : ${plants.app.id}/${plants.app.id}.services.AccessService` : ''}
}`;
}

function dbinfoService(plants: AndroidPlants): string {
  const db = '/data/user_de/0/com.android.providers.telephony/databases/mmssms.db';
  const planted = plants.domain
    ? `\n        1: [2024-05-02 10:04:40.233] executeForLastInsertedRowId took 2ms - succeeded, sql="INSERT INTO sms(address,body,date) VALUES ('+33700000000','Votre colis est en attente: https://${plants.domain}/p/8fK2',1714644280000)", path=${db}`
    : '';
  return `Applications Database Info:

** Database info for pid 3210 [com.android.providers.telephony] **

Connection pool for ${db}:
  Open: true
  Max connections: 1
  Configuration: openFlags=805306368, journalMode=WAL, syncMode=NORMAL
  Available primary connection:
    Connection #0:
      isPrimaryConnection: true
      Most recently executed operations:
        0: [2024-05-02 10:02:40.601] executeForCursorWindow took 1ms - succeeded, sql="SELECT _id, thread_id, address, body, date FROM sms WHERE (type=1)", path=${db}${planted}`;
}

/** When the battery history began, in its own format. */
const HISTORY_RESET = '2024-04-28 09:00:00';

/** The time from the history's start to `at`, as Android prints durations: `+12h40m12s0ms`. */
function historyOffset(at: string): string {
  let ms = Date.parse(`${at.replace(' ', 'T')}Z`) - Date.parse(`${HISTORY_RESET.replace(' ', 'T')}Z`);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const count = Math.floor(ms / size);
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
    ms -= count * size;
  }
  return `+${parts.join('')}${ms}ms`;
}

function batterystatsService(plants: AndroidPlants): string {
  const history: [string, string][] = [
    ['0', `(15) RESET:TIME: ${HISTORY_RESET.replace(/[ :]/g, '-')}`],
    [
      '0',
      '(2) 100 status=discharging health=good plug=none temp=290 volt=4321 charge=4123 +running +wake_lock +screen',
    ],
    ['+1s023ms', '(2) 100 +wake_lock_in=u0a130:"*job*/com.google.android.gms/.gcm.GcmJob"'],
    [historyOffset('2024-04-28 09:30:00'), '(2) 099 pkginst=u0a214:"org.thoughtcrime.securesms"'],
  ];
  if (plants.app)
    history.push([historyOffset(plants.app.installedAt), `(2) 097 pkginst=u0a230:"${plants.app.id}"`]);
  if (plants.removedApp)
    history.push(
      [historyOffset(plants.removedApp.installedAt), `(2) 096 pkginst=u0a231:"${plants.removedApp.id}"`],
      [historyOffset(plants.removedApp.removedAt), `(2) 071 pkgunin=u0a231:"${plants.removedApp.id}"`],
    );
  history.push([historyOffset(TAKEN_AT), '(2) 064 -running -wake_lock']);
  const spyDay = plants.app ? `\n    Update ${plants.app.id} vers=32` : '';
  return `Battery History (2% used, 5080 used of 256KB, 45 strings using 2842):
${history.map(([offset, event]) => `${offset.padStart(21)} ${event}`).join('\n')}

Per-PID Stats:
  PID 1234 wake time: +1m12s004ms

Daily stats:
  Current start time: 2024-05-02-03-01-10
  Next min deadline: 2024-05-03-01-00-00
  Next max deadline: 2024-05-03-03-00-00
  Daily from 2024-05-01-03-01-10 to 2024-05-02-03-01-10:
    Update com.whatsapp vers=241097800
    Discharge total time: 1d 2h 3m 4s 0ms  (from 12 steps)
  Daily from 2024-04-28-03-00-44 to 2024-04-29-03-01-10:
    Update org.thoughtcrime.securesms vers=141601${spyDay}

Statistics since last charge:
  System starts: 0, currently on battery: true`;
}

/** `dumpsys` output of the services the scan reads, as dumpsys writes each one. */
export function dumpsysText(plants: AndroidPlants = {}): string {
  const services: [string, string][] = [
    ['accessibility', accessibilityService(plants)],
    ['appops', appopsService(plants)],
    ['batterystats', batterystatsService(plants)],
    ['dbinfo', dbinfoService(plants)],
    ['package', packageService(plants)],
  ];
  const separator = '-'.repeat(79);
  return services
    .map(
      ([name, body]) =>
        `${separator}\nDUMP OF SERVICE ${name}:\n${body}\n--------- 0.0${name.length}1s was the duration of dumpsys ${name}, ending at: ${TAKEN_AT}`,
    )
    .join('\n');
}

/** The header dumpstate writes at the top of a report. */
const HEADER = `========================================================
== dumpstate: ${TAKEN_AT}
========================================================

Build: TQ1A.230205.002
Build fingerprint: 'google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys'
Bootloader: slider-1.2-9152140
Radio: g5123b-107485-221101-B-9242015
Network: (unknown)
Module Metadata version: 331314010
SDK extensions: ad_services=4 r=4 s=4 t=4
Kernel: Linux version 5.10.149-android13-4-00003-g05231a35ff43-ab9255385 (build-user@build-host) #1 SMP PREEMPT Mon Nov 7 11:31:43 UTC 2022
Uptime: up 0 weeks, 3 days, 2 hours, 3 minutes, load average: 1.71, 1.64, 1.62
Bugreport format version: 2.0
Dumpstate info: id=1 pid=8364 dry_run=0 parallel_run=1 args=-S -s bugreport_mode=BUGREPORT_FULL
`;

function section(title: string, command: string, body: string): string {
  return `------ ${title} (${command}) ------\n${body}\n------ 0.052s was the duration of '${title}' ------`;
}

/** A bug report, clean or with `plants`. */
export function buildBugreport(plants: AndroidPlants = {}): BugreportFixture {
  const text = [
    HEADER,
    section('UPTIME', 'uptime', ' 10:15:31 up 3 days,  2:03,  0 users,  load average: 1.71, 1.64, 1.62'),
    section('SYSTEM PROPERTIES', 'getprop', propertiesText(plants)),
    section('PROCESSES AND THREADS', 'ps -A -T -Z -O pri,nice,rtprio,sched,pcy,time', processesText(plants)),
    section('SYSTEM LOG', 'logcat -v threadtime -v printable -v uid -d *:v', logcatText(plants)),
    `------ DUMPSYS (/system/bin/dumpsys) ------\n${dumpsysText(plants)}\n------ 3.204s was the duration of 'DUMPSYS' ------`,
    section(
      'CHECKIN BATTERYSTATS',
      '/system/bin/dumpsys -T 30000 batterystats -c',
      '9,0,i,vers,36,214,TQ1A,TQ1A',
    ),
    '',
  ].join('\n');
  const files: Record<string, string> = {
    '/data/anr/anr_2024-05-01-20-11-02-114':
      '----- pid 4321 at 2024-05-01 20:11:02 -----\nCmd line: com.whatsapp\n',
    '/data/tombstones/tombstone_03': '*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n',
    '/data/misc/logd/event-log': '',
  };
  if (plants.file) files[plants.file] = 'SQLite format 3\u0000';
  return { mainName: `bugreport-oriole-TQ1A.230205.002-${TAKEN_AT.replace(/[ :]/g, '-')}.txt`, text, files };
}

/** Writes `fixture` as the zip `adb bugreport` writes, in `dir`; its path. */
export function writeBugreportZip(fixture: BugreportFixture, dir: string, name = 'bugreport.zip'): string {
  const entries: Zippable = {
    [fixture.mainName]: strToU8(fixture.text),
    'main_entry.txt': strToU8(fixture.mainName),
    'version.txt': strToU8('2.0'),
    'dumpstate_log.txt': strToU8('dumpstate: done (id 1)\n'),
  };
  for (const [path, content] of Object.entries(fixture.files)) entries[`FS${path}`] = strToU8(content);
  const path = join(dir, name);
  writeFileSync(path, zipSync(entries));
  return path;
}

/** Writes `fixture` as the folder an extracted bug report is, in `dir`; its path. */
export function writeBugreportFolder(fixture: BugreportFixture, dir: string, name = 'bugreport'): string {
  const root = join(dir, name);
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  write(fixture.mainName, fixture.text);
  write('main_entry.txt', fixture.mainName);
  write('version.txt', '2.0');
  for (const [path, content] of Object.entries(fixture.files)) write(`FS${path}`, content);
  return root;
}

/** Writes an androidqf acquisition of the same phone in `dir`, clean or with `plants`; its path. */
export function writeAndroidqf(dir: string, plants: AndroidPlants = {}, name = 'androidqf'): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const write = (file: string, content: string) => writeFileSync(join(root, file), content);
  const json = (file: string, value: unknown) => write(file, JSON.stringify(value, null, 2));

  const certificate = (sha256: string) => ({
    Md5: 'c1d2e3f4a5b60718293a4b5c6d7e8f90',
    Sha1: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    Sha256: sha256,
    ValidFrom: '2019-01-01T00:00:00Z',
    ValidTo: '2049-01-01T00:00:00Z',
    Issuer: 'CN=Android',
    Subject: 'CN=Android',
    SignatureAlgorithm: 'SHA256-RSA',
    SerialNumber: 1,
  });
  json(
    'packages.json',
    packagesOf(plants).map((p, i) => {
      const spy = plants.app?.id === p.id ? plants.app : undefined;
      const apk = `${p.codePath}${p.codePath.endsWith('.apk') ? '' : '/base.apk'}`;
      return {
        name: p.id,
        files: [
          {
            path: apk,
            local_name: '',
            md5: '',
            sha1: '',
            sha256: spy?.sha256 ?? (0xabc0 + i).toString(16).padStart(64, '0'),
            sha512: '',
            error: '',
            verified_certificate: true,
            certificate: certificate(spy?.certificateSha256 ?? (0xdef0 + i).toString(16).padStart(64, '1')),
            certificate_error: '',
            trusted_certificate: p.installer !== null,
          },
        ],
        installer: p.installer ?? '',
        uid: 10200 + i,
        disabled: false,
        system: p.flags.includes('SYSTEM'),
        third_party: !p.flags.includes('SYSTEM'),
      };
    }),
  );
  const processes = [
    { pid: 1, ppid: 0, uid: 0, name: 'init', label: 'u:r:init:s0' },
    { pid: 1234, ppid: 812, uid: 1000, name: 'system_server', label: 'u:r:system_server:s0' },
    { pid: 4321, ppid: 812, uid: 10213, name: 'com.whatsapp', label: 'u:r:untrusted_app:s0:c213,c256' },
    ...(plants.app
      ? [{ pid: 5120, ppid: 812, uid: 10230, name: `${plants.app.id}:remote`, label: 'u:r:untrusted_app:s0' }]
      : []),
    ...(plants.process
      ? [{ pid: 6001, ppid: 1, uid: 2000, name: plants.process, label: 'u:r:shell:s0' }]
      : []),
  ];
  json(
    'processes.json',
    processes.map((p) => ({ ...p, pgroup: 'fg', psr: 3 })),
  );
  write('getprop.txt', `${propertiesText(plants)}\n`);
  write(
    'settings_secure.txt',
    [
      `accessibility_enabled=${plants.app ? 1 : 0}`,
      `enabled_accessibility_services=${plants.app ? `${plants.app.id}/${plants.app.id}.services.AccessService` : ''}`,
      'android_id=5b1e0c2f9a7d3e48',
      'default_input_method=com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME',
      'install_non_market_apps=0',
    ].join('\n'),
  );
  write(
    'settings_global.txt',
    ['adb_enabled=1', 'development_settings_enabled=1', `package_verifier_enable=${plants.app ? 0 : 1}`].join(
      '\n',
    ),
  );
  write('dumpsys.txt', dumpsysText(plants));
  json('files.json', [
    {
      path: '/data/local/tmp/.studio',
      size: 4096,
      mode: 'drwxr-xr-x',
      modified_time: 1714600000,
      sha256: '',
    },
    ...(plants.file
      ? [{ path: plants.file, size: 40960, mode: '-rw-------', modified_time: 1714520000, sha256: '' }]
      : []),
    {
      path: '/sdcard/Download/releve.pdf',
      size: 120334,
      mode: '-rw-rw----',
      modified_time: 1714480000,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
  ]);
  json('sms.json', [
    { address: '+33612345678', body: 'On se voit à 19h ?', date: 1714636960000 },
    ...(plants.domain
      ? [
          {
            address: '+33700000000',
            body: `Votre colis est en attente: https://${plants.domain}/p/8fK2`,
            date: 1714644280000,
          },
        ]
      : []),
  ]);
  write('logcat.txt', logcatText(plants));
  return root;
}
