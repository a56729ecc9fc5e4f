/**
 * Device policy for a group of agents: the Apple configuration profile (`.mobileconfig`) and the
 * Android Management API policy that block apps (TikTok first), forbid installing apps from
 * anywhere but the managed catalogue, and send the device's DNS to Rempart's resolver.
 *
 * Pure: the same input always gives the same bytes. Payload UUIDs are derived from the group and
 * the payload type (UUID version 5), so an MDM that receives a regenerated profile sees an update
 * of the one it installed, not a second profile.
 *
 * References, checked for every key written here:
 * - Apple Device Management, profile payloads (github.com/apple/device-management, `mdm/profiles/`,
 *   and developer.apple.com/documentation/devicemanagement): TopLevel, CommonPayloadKeys,
 *   Restrictions (`com.apple.applicationaccess`), WebContentFilter (`com.apple.webcontent-filter`),
 *   DNSSettings (`com.apple.dnsSettings.managed`).
 * - Android Management API, REST resource `enterprises.policies`
 *   (developers.google.com/android/management/reference/rest/v1/enterprises.policies).
 *
 * @example
 *   const input = {
 *     group: { id: 'cabinet', name: 'Cabinet du ministre' },
 *     organisation: 'Ministère de l’Exemple',
 *     blockedApps: { android: ['com.zhiliaoapp.musically'], ios: ['com.zhiliaoapp.musically'] },
 *     noPrivateApps: true,
 *     allowedApps: { android: ['com.microsoft.teams'], ios: ['com.microsoft.skype.teams'] },
 *     blockedDomains: ['tiktok.com'],
 *     dohUrl: 'https://rempart.example.gouv.fr/dns-query',
 *   };
 *   appleProfile(input);   // → '<?xml version="1.0" …' (a .mobileconfig, unsigned)
 *   androidPolicy(input);  // → { applications: [...], playStoreMode: 'WHITELIST', ... }
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { GroupId, RempartError, type DevicePlatform } from '@rempart/core';
import { toPlistXml, type PlistDict } from './plist.js';

export interface PlatformApps {
  android: readonly string[];
  ios: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Limits

/**
 * Apple: "Limit the number of these URLs to no more than 500" (WebContentFilter, `DenyListURLs`).
 * Rempart's resolver blocks every domain of the group anyway; Safari's deny list is a second
 * lock for the first 500, in the order given (put the ones that matter most first).
 */
export const APPLE_DENY_LIST_MAX = 500;

/** Android Management API: "The maximum number of applications that you can specify per policy is 3,000." */
export const ANDROID_APPLICATIONS_MAX = 3000;

/** Apple documents no limit for bundle id lists; the same bound keeps profiles a sane size. */
const IOS_APPS_MAX = 3000;

/** Domains accepted in one input; only the first `APPLE_DENY_LIST_MAX` reach the profile. */
const BLOCKED_DOMAINS_MAX = 100_000;

// ---------------------------------------------------------------------------------------------
// Input

/**
 * An iOS bundle identifier: "alphanumeric characters (A–Z, a–z, and 0–9), hyphens (-), and
 * periods (.)" (Apple, CFBundleIdentifier). Rempart also wants two components at least, as every
 * store app has, so that a bare word ("tiktok") is caught as a mistake.
 */
const BUNDLE_ID = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

/**
 * An Android package name (application ID): "at least two segments … Each segment must start
 * with a letter. All characters must be alphanumeric or an underscore" (developer.android.com,
 * "Set the application ID").
 */
const PACKAGE_NAME = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$/;

/** A reverse-DNS identifier prefix such as `fr.gouv.interieur`: two labels or more. */
const REVERSE_DNS =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A host name in ASCII (after IDNA): labels of letters, digits, `-` and `_`, two labels or more. */
const HOSTNAME =
  /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const show = (value: string) => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value);

const appId = (platform: DevicePlatform) =>
  z
    .string()
    .trim()
    .max(255)
    .superRefine((value, ctx) => {
      const ok = platform === 'ios' ? BUNDLE_ID.test(value) : PACKAGE_NAME.test(value);
      if (ok) return;
      ctx.addIssue({
        code: 'custom',
        message:
          platform === 'ios'
            ? `${show(value)} is not an iOS bundle id (letters, digits, hyphens and dots, e.g. com.zhiliaoapp.musically)`
            : `${show(value)} is not an Android package name (dot-separated words starting with a letter, e.g. com.zhiliaoapp.musically)`,
      });
    });

const appList = (platform: DevicePlatform, max: number) =>
  z
    .array(appId(platform))
    .max(max, `at most ${max} apps`)
    .default([])
    .transform((apps) => [...new Set(apps)]);

const platformApps = z.object({
  android: appList('android', ANDROID_APPLICATIONS_MAX),
  ios: appList('ios', IOS_APPS_MAX),
});

// C0 and DEL, lone surrogates and the two non-characters XML 1.0 cannot carry (§2.2).
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f\ud800-\udfff\ufffe\uffff]/u;

/** Text shown on the device: no control characters, which no profile or policy can carry. */
const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must not hold control characters');

/** A hostname, accepted in Unicode or ASCII, returned as lowercase ASCII (IDNA, UTS #46). */
const hostname = z
  .string()
  .trim()
  .max(253)
  .transform((value, ctx) => {
    const ascii = domainToASCII(value.replace(/\.$/, ''));
    if (ascii === '' || !HOSTNAME.test(ascii)) {
      ctx.addIssue({ code: 'custom', message: `${show(value)} is not a domain name (e.g. tiktok.com)` });
      return z.NEVER;
    }
    return ascii;
  });

/** A blocked domain; `*.tiktok.com` and `.tiktok.com` mean the domain and below, as `tiktok.com` does. */
const blockedDomain = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\*?\./, ''))
  .pipe(hostname);

const dohUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${show(value)} is not a URL` });
      return;
    }
    // Apple, DNSSettings.ServerURL: "This URL needs to use the `https://` scheme"; RFC 8484 §3.
    if (url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: 'must be an https:// URL (RFC 8484 §3)' });
    if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a #fragment' });
  });

/**
 * Rempart's own UUID namespace. An installation that gives no `uuidNamespace` gets
 * `uuidV5(REMPART_UUID_NAMESPACE, identifierPrefix)`: stable, and its own as long as its
 * identifier prefix (by default, its DNS host name reversed) is.
 */
export const REMPART_UUID_NAMESPACE = 'b080a7f4-cc21-4b1b-8a69-3745642d9522';

export const devicePolicyInputSchema = z
  .object({
    group: z.object({ id: GroupId, name: displayText(120) }),
    /** The institution, shown on the device as the profile's organisation. */
    organisation: displayText(200),
    /** Apps to block: those of the group's categories, and any it names. */
    blockedApps: platformApps,
    /** No app outside the managed catalogue, and no install from anywhere else. */
    noPrivateApps: z.boolean(),
    /**
     * The managed catalogue, for `noPrivateApps`. Without it the iOS profile still switches the
     * stores off but lists no allowed app, and the Android policy lists only the blocked apps (see
     * `androidPolicy`).
     */
    allowedApps: platformApps.optional(),
    /** Domains for Safari's deny list; see `APPLE_DENY_LIST_MAX`. */
    blockedDomains: z
      .array(blockedDomain)
      .max(BLOCKED_DOMAINS_MAX, `at most ${BLOCKED_DOMAINS_MAX} domains`)
      .default([])
      .transform((domains) => [...new Set(domains)]),
    /** Rempart's DNS-over-HTTPS endpoint, e.g. https://rempart.example.gouv.fr/dns-query. */
    dohUrl,
    /**
     * The host name of a DNS-over-TLS service (RFC 7858) in front of Rempart's resolver, if the
     * institution runs one. Android's managed private DNS speaks DNS over TLS only; without this
     * name the Android policy leaves the device's DNS alone.
     */
    serverName: hostname.optional(),
    /**
     * Reverse DNS of the institution, e.g. `fr.gouv.interieur`; PayloadIdentifiers start with it.
     * By default, the DNS endpoint's host name reversed (`rempart.interieur.gouv.fr` →
     * `fr.gouv.interieur.rempart`).
     */
    identifierPrefix: z
      .string()
      .trim()
      .max(200)
      .regex(REVERSE_DNS, 'must be a reverse-DNS name such as fr.gouv.interieur')
      .optional(),
    /**
     * A UUID fixed once per installation: PayloadUUIDs are UUIDv5 names in it, so the same group
     * gives the same UUIDs every time, and no other installation's. See `REMPART_UUID_NAMESPACE`
     * for the default.
     */
    uuidNamespace: z
      .uuid()
      .transform((u) => u.toLowerCase())
      .optional(),
  })
  .superRefine((input, ctx) => {
    for (const platform of ['android', 'ios'] as const) {
      const blocked = new Set(input.blockedApps[platform]);
      input.allowedApps?.[platform].forEach((app, i) => {
        if (blocked.has(app)) {
          ctx.addIssue({
            code: 'custom',
            path: ['allowedApps', platform, i],
            message: `${show(app)} is both blocked and in the catalogue`,
          });
        }
      });
    }
    const android = input.blockedApps.android.length + (input.allowedApps?.android.length ?? 0);
    if (android > ANDROID_APPLICATIONS_MAX) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedApps', 'android'],
        message: `blocked and catalogue apps together exceed the ${ANDROID_APPLICATIONS_MAX} an Android policy can hold`,
      });
    }
    if (input.identifierPrefix === undefined && !REVERSE_DNS.test(reversedHost(input.dohUrl))) {
      ctx.addIssue({
        code: 'custom',
        path: ['identifierPrefix'],
        message: 'is needed when the DNS endpoint has no host name to derive it from',
      });
    }
  })
  .transform((input) => {
    const identifierPrefix = input.identifierPrefix ?? reversedHost(input.dohUrl);
    return {
      ...input,
      identifierPrefix,
      uuidNamespace: input.uuidNamespace ?? uuidV5(REMPART_UUID_NAMESPACE, identifierPrefix),
    };
  });

/** `https://rempart.example.gouv.fr/dns-query` → `fr.gouv.example.rempart`. */
function reversedHost(url: string): string {
  try {
    return new URL(url).hostname.split('.').reverse().join('.');
  } catch {
    return ''; // the URL itself is reported
  }
}

/** What callers pass (lists may be omitted and are cleaned up). */
export type DevicePolicyInput = z.input<typeof devicePolicyInputSchema>;
/** The input once validated: ids checked and deduplicated, domains in lowercase ASCII. */
export type DevicePolicy = z.output<typeof devicePolicyInputSchema>;

/**
 * Validates a device policy input, throwing a `validation_failed` error that names every bad
 * field (`blockedApps.ios[0]: "tik tok" is not an iOS bundle id …`).
 */
export function parseDevicePolicyInput(raw: unknown): DevicePolicy {
  const result = devicePolicyInputSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
      .join(''),
    message: issue.message,
  }));
  const shown = issues
    .slice(0, 5)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  throw RempartError.validation(`The device policy is not valid: ${shown}${more}.`, { issues });
}

// ---------------------------------------------------------------------------------------------
// Deterministic UUIDs

/**
 * A name-based UUID, version 5 (SHA-1), as RFC 9562 §5.5 defines it: the hash of the namespace's
 * 16 bytes followed by the name in UTF-8, with the version and variant bits set.
 *
 * @example uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')
 *   // → '2ed6657d-e927-568b-95e1-2665a8aea6a2' (RFC 9562 Appendix A.4)
 */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw RempartError.validation(`${show(namespace)} is not a UUID.`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10xx (RFC 9562 §4.1)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Apple

/** The domains that go into Safari's deny list, and how many the 500 cap left out. */
export function webFilterDomains(input: DevicePolicyInput): { included: string[]; omitted: number } {
  return denyList(parseDevicePolicyInput(input).blockedDomains);
}

function denyList(blockedDomains: readonly string[]): { included: string[]; omitted: number } {
  return {
    included: blockedDomains.slice(0, APPLE_DENY_LIST_MAX),
    omitted: Math.max(0, blockedDomains.length - APPLE_DENY_LIST_MAX),
  };
}

/**
 * The group's Apple configuration profile, as `.mobileconfig` XML (unsigned: the MDM that
 * delivers it signs it, or the console offers it for a supervised device's manual install).
 *
 * Most restrictions here take effect on supervised devices only (Apple marks them "Requires a
 * supervised device"); an unsupervised device installs the profile but ignores them, which the
 * compliance report then shows.
 *
 * With `noPrivateApps`, the App Store is switched off: the catalogue reaches devices as apps the
 * MDM installs, which these restrictions do not stop ("MDM commands can override this
 * restriction"). Apple applies `allowListedAppBundleIDs` to every app the device shows, built-in
 * ones too, so the iOS catalogue must name the built-in apps agents need as well.
 */
export function appleProfile(raw: DevicePolicyInput): string {
  const input = parseDevicePolicyInput(raw);
  // `fr.gouv.example.rempart.netguard.cabinet`, with one `rempart` when the prefix ends with it.
  const base = /(^|\.)rempart$/i.test(input.identifierPrefix)
    ? input.identifierPrefix
    : `${input.identifierPrefix}.rempart`;
  const root = `${base}.netguard.${input.group.id}`;
  const payload = (type: string, suffix: string, displayName: string) => ({
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: `${root}.${suffix}`,
    PayloadUUID: uuidV5(input.uuidNamespace, `${input.group.id}/${type}`),
    PayloadDisplayName: displayName,
    PayloadOrganization: input.organisation,
  });

  const content: PlistDict[] = [];
  const restrictions = restrictionKeys(input);
  if (restrictions !== undefined) {
    content.push({
      ...payload('com.apple.applicationaccess', 'restrictions', 'Blocked apps and app installation'),
      ...restrictions,
    });
  }
  const { included } = denyList(input.blockedDomains);
  if (included.length > 0) {
    content.push({
      ...payload('com.apple.webcontent-filter', 'webcontent-filter', 'Blocked web sites'),
      // Apple, WebContentFilter: `DenyListURLs` since iOS 14.5 (it replaces the deprecated
      // `BlacklistedURLs`, which Rempart does not write: the DNS payload below already needs
      // iOS 14, and iOS before 14.5 no longer receives security updates). A pattern matches as a
      // substring of the URL, so `tiktok.com` also catches `www.tiktok.com` and `m.tiktok.com`.
      FilterType: 'BuiltIn',
      DenyListURLs: included,
    });
  }
  content.push({
    ...payload('com.apple.dnsSettings.managed', 'dns', 'Rempart DNS over HTTPS'),
    // Apple, DNSSettings: DNSProtocol `HTTPS` with ServerURL, "the URI template of a
    // DNS-over-HTTPS server, as defined in RFC 8484". Without OnDemandRules the settings always
    // apply. Apple notes that, installed by an MDM, they apply on managed Wi-Fi networks only.
    DNSSettings: { DNSProtocol: 'HTTPS', ServerURL: input.dohUrl },
    // "If `true`, the system prohibits users from disabling DNS settings" (supervised only).
    ProhibitDisablement: true,
  });

  const blocked = input.blockedApps.ios.length;
  const domains = included.length;
  const description = [
    `Set by ${input.organisation} with Rempart for the group “${input.group.name}”.`,
    blocked > 0 ? `Blocks ${blocked} app${blocked === 1 ? '' : 's'}.` : '',
    input.noPrivateApps
      ? 'Only apps from the managed catalogue may be installed: no App Store, other marketplace, web site or enterprise developer.'
      : '',
    domains > 0 ? `Blocks ${domains} web domain${domains === 1 ? '' : 's'} in Safari.` : '',
    'Sends DNS queries to Rempart’s resolver over HTTPS.',
  ]
    .filter(Boolean)
    .join(' ');

  return toPlistXml({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: root,
    PayloadUUID: uuidV5(input.uuidNamespace, `${input.group.id}/Configuration`),
    PayloadDisplayName: `${input.organisation}: Rempart (${input.group.name})`,
    PayloadOrganization: input.organisation,
    PayloadDescription: description,
    // TopLevel: "the user can't delete the profile" (supervised devices).
    PayloadRemovalDisallowed: true,
    // TopLevel: macOS reads it, iOS ignores it.
    PayloadScope: 'System',
    PayloadContent: content,
  });
}

/** The Restrictions payload's own keys (Apple, `com.apple.applicationaccess`), if any apply. */
function restrictionKeys(input: DevicePolicy): PlistDict | undefined {
  const keys: Record<string, string[] | boolean> = {};
  // "If present, prevents bundle IDs listed in the array from being shown or launchable"
  // (iOS 15+, supervised; it replaces `blacklistedAppBundleIDs`).
  if (input.blockedApps.ios.length > 0) keys.blockedAppBundleIDs = [...input.blockedApps.ios];
  if (input.noPrivateApps) {
    // The App Store, and installs from Apple Configurator or a computer (supervised, iOS 13+).
    keys.allowAppInstallation = false;
    // The App Store app itself (supervised, iOS 9+).
    keys.allowUIAppInstallation = false;
    // Alternative marketplaces (EU, iOS 17.4+, supervised).
    keys.allowMarketplaceAppInstallation = false;
    // "Installation of apps directly from the web" (EU, iOS 17.5+, supervised).
    keys.allowWebDistributionAppInstallation = false;
    // The "Trust Enterprise Developer" button: apps signed outside the store and not pushed by
    // the MDM (iOS 9+).
    keys.allowEnterpriseAppTrust = false;
    // "Only shows or can launch apps with bundle IDs in the array" (iOS 15+, supervised). An empty
    // catalogue is left out rather than written: Apple would then hide every app, built-in ones too.
    const catalogue = input.allowedApps?.ios ?? [];
    if (catalogue.length > 0) keys.allowListedAppBundleIDs = [...catalogue];
  }
  return Object.keys(keys).length > 0 ? keys : undefined;
}

// ---------------------------------------------------------------------------------------------
// Android

/** `ApplicationPolicy` of the Android Management API, the fields Rempart sets. */
export interface AndroidApplicationPolicy {
  packageName: string;
  /**
   * `BLOCKED`: "The app is blocked and can't be installed. If the app was installed under a
   * former policy, it will be uninstalled." `AVAILABLE`: "The app is available to install."
   */
  installType: 'BLOCKED' | 'AVAILABLE';
}

/** The fields of the Android Management API `Policy` resource that Rempart sets. */
export interface AndroidPolicy {
  applications: AndroidApplicationPolicy[];
  /**
   * `WHITELIST`: "Only apps that are in the policy are available and any app not in the policy
   * will be automatically uninstalled from the device." `BLACKLIST`: "All apps are available and
   * any app that should not be on the device should be explicitly marked as 'BLOCKED'."
   * Always written: unspecified means WHITELIST.
   */
  playStoreMode: 'WHITELIST' | 'BLACKLIST';
  /**
   * `untrustedAppsPolicy`, "the policy for untrusted apps (apps from unknown sources)", replaces
   * the deprecated `installUnknownSourcesAllowed`. `DISALLOW_INSTALL`: "Disallow untrusted app
   * installs on entire device."
   */
  advancedSecurityOverrides?: { untrustedAppsPolicy: 'DISALLOW_INSTALL' };
  /**
   * Private DNS: "Supported on Android 10 and above on fully managed devices"; the host must be a
   * DNS-over-TLS server (RFC 7858). Android has no managed setting for DNS over HTTPS.
   */
  deviceConnectivityManagement?: {
    privateDnsSettings: { privateDnsMode: 'PRIVATE_DNS_SPECIFIED_HOST'; privateDnsHost: string };
  };
  /** App reports feed the compliance check (`Device.applicationReports`). */
  statusReportingSettings: { applicationReportsEnabled: true };
}

/**
 * The group's policy for the Android Management API (`enterprises.policies.patch` body).
 *
 * With `noPrivateApps`, Play offers the catalogue only (`WHITELIST`, which also uninstalls apps
 * outside it) and apps from unknown sources cannot be installed. Without it, every app stays
 * available except the blocked ones (`BLACKLIST`).
 *
 * Without a catalogue, a `noPrivateApps` policy lists the blocked apps only: applied as it is,
 * it leaves a device no app beyond the system's. An MDM that keeps its own catalogue merges it
 * into `applications` before applying the policy.
 */
export function androidPolicy(raw: DevicePolicyInput): AndroidPolicy {
  const input = parseDevicePolicyInput(raw);
  const applications: AndroidApplicationPolicy[] = [
    ...input.blockedApps.android.map((packageName) => ({ packageName, installType: 'BLOCKED' as const })),
    ...(input.allowedApps?.android ?? []).map((packageName) => ({
      packageName,
      installType: 'AVAILABLE' as const,
    })),
  ];
  return {
    applications,
    playStoreMode: input.noPrivateApps ? 'WHITELIST' : 'BLACKLIST',
    ...(input.noPrivateApps
      ? { advancedSecurityOverrides: { untrustedAppsPolicy: 'DISALLOW_INSTALL' as const } }
      : {}),
    ...(input.serverName === undefined
      ? {}
      : {
          deviceConnectivityManagement: {
            privateDnsSettings: {
              privateDnsMode: 'PRIVATE_DNS_SPECIFIED_HOST' as const,
              privateDnsHost: input.serverName,
            },
          },
        }),
    statusReportingSettings: { applicationReportsEnabled: true },
  };
}
