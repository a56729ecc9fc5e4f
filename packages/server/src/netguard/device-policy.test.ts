import fc from 'fast-check';
import { parse } from 'plist';
import { describe, expect, it } from 'vitest';
import {
  APPLE_DENY_LIST_MAX,
  androidPolicy,
  appleProfile,
  parseDevicePolicyInput,
  uuidV5,
  webFilterDomains,
  type DevicePolicyInput,
} from './device-policy.js';

// TikTok, TikTok in the markets where it ships as `trill`, and TikTok Lite; TikTok on iOS.
const TIKTOK_ANDROID = [
  'com.zhiliaoapp.musically',
  'com.ss.android.ugc.trill',
  'com.zhiliaoapp.musically.go',
];
const TIKTOK = { android: TIKTOK_ANDROID, ios: ['com.zhiliaoapp.musically'] };
const DOH = 'https://rempart.example.gouv.fr/dns-query';

const input = (over: Partial<DevicePolicyInput> = {}): DevicePolicyInput => ({
  group: { id: 'cabinet', name: 'Cabinet du ministre' },
  organisation: 'Ministère de l’Exemple',
  blockedApps: TIKTOK,
  noPrivateApps: true,
  allowedApps: {
    android: ['com.microsoft.teams'],
    ios: ['com.microsoft.skype.teams', 'com.apple.mobilephone'],
  },
  blockedDomains: ['tiktok.com', 'tiktokv.com', 'byteoversea.com'],
  dohUrl: DOH,
  identifierPrefix: 'fr.gouv.example',
  uuidNamespace: '3f1c2b9e-8a47-4d2b-9c1e-5b7a6d4e2f10',
  ...over,
});

type Dict = Record<string, any>;

function profile(over: Partial<DevicePolicyInput> = {}) {
  const top = parse(appleProfile(input(over))) as Dict;
  const payloads = top.PayloadContent as Dict[];
  const byType = (type: string) => payloads.find((p) => p.PayloadType === type);
  return { top, payloads, byType };
}

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Apple configuration profile', () => {
  it('parses as a property list whose every payload has a type, UUID, identifier and version', () => {
    const { top, payloads } = profile();
    expect(top.PayloadType).toBe('Configuration');
    expect(payloads.map((p): unknown => p.PayloadType)).toEqual([
      'com.apple.applicationaccess',
      'com.apple.webcontent-filter',
      'com.apple.dnsSettings.managed',
    ]);
    for (const p of [top, ...payloads]) {
      expect(p.PayloadVersion).toBe(1);
      expect(p.PayloadUUID).toMatch(UUID_V5);
      expect(p.PayloadIdentifier).toMatch(/^fr\.gouv\.example\.rempart\.netguard\.cabinet(\.[a-z-]+)?$/);
      expect(typeof p.PayloadDisplayName).toBe('string');
    }
    expect(top.PayloadOrganization).toBe('Ministère de l’Exemple');
    expect(top.PayloadRemovalDisallowed).toBe(true);
    expect(top.PayloadScope).toBe('System');
    expect(top.PayloadDescription).toContain('Cabinet du ministre');
  });

  it('gives every payload its own UUID and identifier', () => {
    const { top, payloads } = profile();
    const all = [top, ...payloads];
    expect(new Set(all.map((p): unknown => p.PayloadUUID)).size).toBe(all.length);
    expect(new Set(all.map((p): unknown => p.PayloadIdentifier)).size).toBe(all.length);
  });

  it('blocks TikTok by bundle id', () => {
    expect(profile().byType('com.apple.applicationaccess')?.blockedAppBundleIDs).toEqual([
      'com.zhiliaoapp.musically',
    ]);
  });

  it('switches off every way to install an app when private apps are forbidden, and keeps to the catalogue', () => {
    const restrictions = profile().byType('com.apple.applicationaccess');
    expect(restrictions).toMatchObject({
      allowAppInstallation: false,
      allowUIAppInstallation: false,
      allowMarketplaceAppInstallation: false,
      allowWebDistributionAppInstallation: false,
      allowEnterpriseAppTrust: false,
      allowListedAppBundleIDs: ['com.microsoft.skype.teams', 'com.apple.mobilephone'],
    });
  });

  it('leaves app installation alone when private apps are allowed, still blocking TikTok', () => {
    const restrictions = profile({ noPrivateApps: false, allowedApps: undefined }).byType(
      'com.apple.applicationaccess',
    );
    expect(restrictions?.blockedAppBundleIDs).toEqual(['com.zhiliaoapp.musically']);
    for (const key of [
      'allowAppInstallation',
      'allowUIAppInstallation',
      'allowListedAppBundleIDs',
      'allowEnterpriseAppTrust',
    ]) {
      expect(restrictions).not.toHaveProperty(key);
    }
  });

  it('writes no allow list for an empty iOS catalogue, which would hide every app', () => {
    const restrictions = profile({ allowedApps: { android: [], ios: [] } }).byType(
      'com.apple.applicationaccess',
    );
    expect(restrictions?.allowAppInstallation).toBe(false);
    expect(restrictions).not.toHaveProperty('allowListedAppBundleIDs');
  });

  it('still switches the stores off without a catalogue, listing no allowed app', () => {
    const restrictions = profile({ allowedApps: undefined }).byType('com.apple.applicationaccess');
    expect(restrictions).toMatchObject({ allowAppInstallation: false, allowUIAppInstallation: false });
    expect(restrictions).not.toHaveProperty('allowListedAppBundleIDs');
  });

  it('derives identifiers and UUIDs from the DNS host name when none are given, the same every time', () => {
    const bare = { identifierPrefix: undefined, uuidNamespace: undefined };
    const first = profile(bare);
    expect(first.top.PayloadIdentifier).toBe('fr.gouv.example.rempart.netguard.cabinet');
    expect(first.top.PayloadUUID).toMatch(UUID_V5);
    expect(profile(bare).top.PayloadUUID).toBe(first.top.PayloadUUID);
    const other = profile({ ...bare, dohUrl: 'https://rempart.autre.gouv.fr/dns-query' });
    expect(other.top.PayloadIdentifier).toBe('fr.gouv.autre.rempart.netguard.cabinet');
    expect(other.top.PayloadUUID).not.toBe(first.top.PayloadUUID);
  });

  it('writes no restrictions payload when there is nothing to restrict', () => {
    const { payloads } = profile({
      noPrivateApps: false,
      allowedApps: undefined,
      blockedApps: { android: [], ios: [] },
    });
    expect(payloads.map((p): unknown => p.PayloadType)).not.toContain('com.apple.applicationaccess');
  });

  it('sends DNS to Rempart over HTTPS and forbids switching it off', () => {
    const dns = profile().byType('com.apple.dnsSettings.managed');
    expect(dns?.DNSSettings).toEqual({ DNSProtocol: 'HTTPS', ServerURL: DOH });
    expect(dns?.ProhibitDisablement).toBe(true);
  });

  it('denies the blocked domains in Safari with the built-in filter', () => {
    const filter = profile({
      blockedDomains: ['TikTok.com.', '*.tiktokcdn.com', '.byteoversea.com', 'tiktok.com'],
    }).byType('com.apple.webcontent-filter');
    expect(filter?.FilterType).toBe('BuiltIn');
    expect(filter?.DenyListURLs).toEqual(['tiktok.com', 'tiktokcdn.com', 'byteoversea.com']);
    expect(filter).not.toHaveProperty('BlacklistedURLs');
  });

  it('keeps Safari’s deny list to Apple’s 500 and says how many it left to the DNS', () => {
    const domains = Array.from({ length: 650 }, (_, i) => `blocked-${i}.example`);
    const filter = profile({ blockedDomains: domains }).byType('com.apple.webcontent-filter');
    expect(filter?.DenyListURLs).toHaveLength(APPLE_DENY_LIST_MAX);
    expect(filter?.DenyListURLs[0]).toBe('blocked-0.example');
    expect(webFilterDomains(input({ blockedDomains: domains })).omitted).toBe(150);
  });

  it('writes no web filter without blocked domains', () => {
    expect(profile({ blockedDomains: [] }).byType('com.apple.webcontent-filter')).toBeUndefined();
  });

  it('regenerates the same profile byte for byte, so an MDM sees an update and not a new profile', () => {
    expect(appleProfile(input())).toBe(appleProfile(input()));
    const changed = profile({
      blockedDomains: ['example.org'],
      group: { id: 'cabinet', name: 'Cabinet (renommé)' },
    });
    const first = profile();
    expect(changed.top.PayloadUUID).toBe(first.top.PayloadUUID);
    expect(changed.byType('com.apple.dnsSettings.managed')?.PayloadUUID).toBe(
      first.byType('com.apple.dnsSettings.managed')?.PayloadUUID,
    );
  });

  it('gives another group, or another installation, other UUIDs', () => {
    const first = profile().top.PayloadUUID;
    expect(profile({ group: { id: 'presse', name: 'Presse' } }).top.PayloadUUID).not.toBe(first);
    expect(profile({ uuidNamespace: 'b5b0b7d6-61a2-4c1e-8d0a-3f0c7f6f7a11' }).top.PayloadUUID).not.toBe(
      first,
    );
  });

  it('escapes a hostile group name and gives it back intact', () => {
    const name = 'Cab<inet> & co ]]> </string><true/>';
    const xml = appleProfile(input({ group: { id: 'cabinet', name }, organisation: 'A & B <Ministère>' }));
    expect(xml).not.toContain(']]>');
    expect(xml).not.toContain('</string><true/>');
    const top = parse(xml) as Dict;
    expect(top.PayloadDisplayName).toBe(`A & B <Ministère>: Rempart (${name})`);
    expect(top.PayloadDescription).toContain(`“${name}”`);
  });

  it('carries any printable group name through to the device intact (property)', () => {
    const printable = fc
      .string({
        unit: fc.constantFrom('<', '>', '&', ']', '"', "'", ' ', 'é', '’', '😀', 'a', 'Z', '0', ';'),
        minLength: 1,
        maxLength: 60,
      })
      .map((s) => s.trim())
      .filter((s) => s !== '');
    fc.assert(
      fc.property(printable, (name) => {
        const top = parse(appleProfile(input({ group: { id: 'cabinet', name } }))) as Dict;
        expect(top.PayloadDisplayName).toBe(`Ministère de l’Exemple: Rempart (${name})`);
      }),
      { numRuns: 60 },
    );
  });
});

describe('UUIDs derived from names', () => {
  it('follows RFC 9562: version 5 of www.example.com in the DNS namespace', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});

describe('Android Management API policy', () => {
  it('blocks the three TikTok packages and keeps Play to the catalogue', () => {
    const policy = androidPolicy(input());
    expect(policy.applications.filter((a) => a.installType === 'BLOCKED').map((a) => a.packageName)).toEqual(
      TIKTOK_ANDROID,
    );
    expect(policy.applications).toContainEqual({
      packageName: 'com.microsoft.teams',
      installType: 'AVAILABLE',
    });
    expect(policy.playStoreMode).toBe('WHITELIST');
    expect(policy.advancedSecurityOverrides).toEqual({ untrustedAppsPolicy: 'DISALLOW_INSTALL' });
    expect(policy.statusReportingSettings).toEqual({ applicationReportsEnabled: true });
  });

  it('keeps every other app available when private apps are allowed (Play’s default would uninstall them)', () => {
    const policy = androidPolicy(input({ noPrivateApps: false, allowedApps: undefined }));
    expect(policy.playStoreMode).toBe('BLACKLIST');
    expect(policy).not.toHaveProperty('advancedSecurityOverrides');
    expect(policy.applications.map((a) => a.installType)).toEqual(['BLOCKED', 'BLOCKED', 'BLOCKED']);
  });

  it('lists only the blocked apps when private apps are forbidden without a catalogue', () => {
    const policy = androidPolicy(input({ allowedApps: undefined }));
    expect(policy.playStoreMode).toBe('WHITELIST');
    expect(policy.applications.map((a) => a.installType)).toEqual(['BLOCKED', 'BLOCKED', 'BLOCKED']);
  });

  it('sets private DNS only when a DNS-over-TLS host is given', () => {
    expect(androidPolicy(input())).not.toHaveProperty('deviceConnectivityManagement');
    expect(
      androidPolicy(input({ serverName: 'DoT.Rempart.example.gouv.fr' })).deviceConnectivityManagement,
    ).toEqual({
      privateDnsSettings: {
        privateDnsMode: 'PRIVATE_DNS_SPECIFIED_HOST',
        privateDnsHost: 'dot.rempart.example.gouv.fr',
      },
    });
  });

  it('is plain JSON, ready for enterprises.policies.patch', () => {
    const policy = androidPolicy(input({ serverName: 'dot.example.gouv.fr' }));
    expect(JSON.parse(JSON.stringify(policy))).toEqual(policy);
  });
});

describe('device policy input', () => {
  const refusal = (over: Partial<DevicePolicyInput>) => {
    try {
      parseDevicePolicyInput(input(over));
    } catch (error) {
      return error as { code: string; message: string };
    }
    throw new Error('the input was accepted');
  };

  it('refuses a bundle id that is not one, naming it and where it is', () => {
    const error = refusal({ blockedApps: { android: [], ios: ['com.zhiliaoapp.musically', 'tik tok'] } });
    expect(error.code).toBe('validation_failed');
    expect(error.message).toContain('blockedApps.ios[1]: "tik tok" is not an iOS bundle id');
  });

  it('refuses an Android package name whose segment starts with a digit', () => {
    expect(refusal({ blockedApps: { android: ['com.1tiktok.app'], ios: [] } }).message).toContain(
      'blockedApps.android[0]: "com.1tiktok.app" is not an Android package name',
    );
  });

  it('refuses an app that is both blocked and in the catalogue', () => {
    const error = refusal({ allowedApps: { android: ['com.zhiliaoapp.musically'], ios: [] } });
    expect(error.message).toContain(
      'allowedApps.android[0]: "com.zhiliaoapp.musically" is both blocked and in the catalogue',
    );
  });

  it('refuses a DNS endpoint that is not https, and an identifier prefix that is not reverse DNS', () => {
    expect(refusal({ dohUrl: 'http://rempart.example.gouv.fr/dns-query' }).message).toContain(
      'must be an https:// URL',
    );
    expect(refusal({ identifierPrefix: 'example' }).message).toContain(
      'identifierPrefix: must be a reverse-DNS name',
    );
  });

  it('refuses a blocked domain that is not a domain name', () => {
    expect(refusal({ blockedDomains: ['tiktok.com', 'not a domain'] }).message).toContain(
      'blockedDomains[1]: "not a domain" is not a domain name',
    );
  });

  it('refuses control characters in the text shown on the device', () => {
    expect(refusal({ group: { id: 'cabinet', name: 'Cabinet\u0007' } }).message).toContain(
      'group.name: must not hold control characters',
    );
  });

  it('writes international domain names in their ASCII form', () => {
    expect(parseDevicePolicyInput(input({ blockedDomains: ['bücher.example'] })).blockedDomains).toEqual([
      'xn--bcher-kva.example',
    ]);
  });
});
