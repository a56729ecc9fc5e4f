import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BROADER_CATEGORIES, parseLine } from './index.js';

// A failed logon as evtx_dump writes it by default (attributes under `#attributes`).
const evtx4625 = {
  Event: {
    '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
    System: {
      Provider: {
        '#attributes': {
          Name: 'Microsoft-Windows-Security-Auditing',
          Guid: '54849625-5478-4994-A5BA-3E3B0328C30D',
        },
      },
      EventID: 4625,
      Version: 0,
      Level: 0,
      Task: 12544,
      Opcode: 0,
      Keywords: '0x8010000000000000',
      TimeCreated: { '#attributes': { SystemTime: '2026-12-03T11:03:12.482144Z' } },
      EventRecordID: 1904412,
      Correlation: null,
      Execution: { '#attributes': { ProcessID: 712, ThreadID: 3380 } },
      Channel: 'Security',
      Computer: 'EXCH01.ville.local',
      Security: null,
    },
    EventData: {
      SubjectUserSid: 'S-1-5-18',
      SubjectUserName: 'EXCH01$',
      TargetUserName: 'paul.bernard',
      TargetDomainName: 'VILLE',
      Status: '0xc000006d',
      SubStatus: '0xc000006a',
      LogonType: 8,
      IpAddress: '185.220.101.47',
      IpPort: '0',
    },
  },
};

describe('Windows events as JSON', () => {
  it('flatten an evtx_dump record into Sigma’s Windows field names', () => {
    const e = parseLine(JSON.stringify(evtx4625), 'windows', { source: 'Security.evtx' });
    expect(e).toMatchObject({
      parsed: true,
      time: Date.parse('2026-12-03T11:03:12.482Z'),
      logsource: { product: 'windows', service: 'security' },
      source: 'Security.evtx',
    });
    expect(e.logsource.category).toBeUndefined();
    expect(e.fields).toEqual({
      EventID: 4625,
      Channel: 'Security',
      Provider_Name: 'Microsoft-Windows-Security-Auditing',
      Computer: 'EXCH01.ville.local',
      EventRecordID: 1904412,
      Level: 0,
      Task: 12544,
      Opcode: 0,
      Keywords: '0x8010000000000000',
      Version: 0,
      SubjectUserSid: 'S-1-5-18',
      SubjectUserName: 'EXCH01$',
      TargetUserName: 'paul.bernard',
      TargetDomainName: 'VILLE',
      Status: '0xc000006d',
      SubStatus: '0xc000006a',
      LogonType: 8,
      IpAddress: '185.220.101.47',
      IpPort: '0',
    });
  });

  it('read evtx_dump’s separated attributes and an EventID with qualifiers', () => {
    const e = parseLine(
      JSON.stringify({
        Event: {
          System: {
            Provider_attributes: { Name: 'Microsoft-Windows-Sysmon' },
            EventID: { '#attributes': { Qualifiers: 0 }, '#text': 1 },
            TimeCreated_attributes: { SystemTime: '2026-12-03 11:20:09.117 UTC' },
            Channel: 'Microsoft-Windows-Sysmon/Operational',
            Computer: 'EXCH01.ville.local',
          },
          EventData: {
            Image: 'C:\\Windows\\System32\\cmd.exe',
            CommandLine: 'cmd.exe /c whoami',
            ParentImage: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
            User: 'NT AUTHORITY\\SYSTEM',
          },
        },
      }),
      'windows',
    );
    expect(e.logsource).toEqual({ product: 'windows', service: 'sysmon', category: 'process_creation' });
    expect(e.time).toBe(Date.parse('2026-12-03T11:20:09.117Z'));
    expect(e.fields).toMatchObject({
      EventID: 1,
      Provider_Name: 'Microsoft-Windows-Sysmon',
      Image: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'cmd.exe /c whoami',
      ParentImage: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
    });
  });

  it('read Winlogbeat’s shape, and give 4688 Sysmon’s process creation names', () => {
    const e = parseLine(
      JSON.stringify({
        '@timestamp': '2026-12-03T11:20:10.000Z',
        event: { code: '4688', provider: 'Microsoft-Windows-Security-Auditing' },
        winlog: {
          channel: 'Security',
          event_id: '4688',
          provider_name: 'Microsoft-Windows-Security-Auditing',
          computer_name: 'EXCH01.ville.local',
          record_id: 1904500,
          event_data: {
            NewProcessName: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
            ParentProcessName: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
            CommandLine: 'powershell -enc SQBFAFgA',
            SubjectUserName: 'EXCH01$',
          },
        },
        host: { name: 'EXCH01' },
      }),
      'windows',
    );
    expect(e.logsource).toEqual({ product: 'windows', service: 'security', category: 'process_creation' });
    expect(e.time).toBe(Date.parse('2026-12-03T11:20:10.000Z'));
    expect(e.fields).toMatchObject({
      EventID: 4688,
      Channel: 'Security',
      Computer: 'EXCH01.ville.local',
      EventRecordID: 1904500,
      Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      NewProcessName: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      ParentImage: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
      CommandLine: 'powershell -enc SQBFAFgA',
    });
  });

  it('map each channel and event id as Sigma’s taxonomy does', () => {
    const source = (Channel: string, EventID: number, data: Record<string, string> = {}) =>
      parseLine(
        JSON.stringify({ winlog: { channel: Channel, event_id: EventID, event_data: data } }),
        'windows',
      ).logsource;
    const sysmon = 'Microsoft-Windows-Sysmon/Operational';
    expect(source(sysmon, 3).category).toBe('network_connection');
    expect(source(sysmon, 11).category).toBe('file_event');
    expect(source(sysmon, 12, { EventType: 'CreateKey' }).category).toBe('registry_add');
    expect(source(sysmon, 12, { EventType: 'DeleteValue' }).category).toBe('registry_delete');
    expect(source(sysmon, 13).category).toBe('registry_set');
    expect(source(sysmon, 22).category).toBe('dns_query');
    expect(source(sysmon, 999)).toEqual({ product: 'windows', service: 'sysmon' });
    expect(source('Microsoft-Windows-PowerShell/Operational', 4104)).toEqual({
      product: 'windows',
      service: 'powershell',
      category: 'ps_script',
    });
    expect(source('PowerShellCore/Operational', 4103).category).toBe('ps_module');
    expect(source('Windows PowerShell', 400)).toEqual({
      product: 'windows',
      service: 'powershell-classic',
      category: 'ps_classic_start',
    });
    expect(source('MSExchange Management', 1)).toEqual({
      product: 'windows',
      service: 'msexchange-management',
    });
    expect(source('System', 7045)).toEqual({ product: 'windows', service: 'system' });
    expect(source('Some-Vendor/Operational', 1)).toEqual({ product: 'windows' });
    expect(BROADER_CATEGORIES.registry_set).toEqual(['registry_event']);
  });

  it('flatten UserData’s provider element and keep unnamed Data as a list', () => {
    const e = parseLine(
      JSON.stringify({
        Event: {
          System: { EventID: 1102, Channel: 'Security' },
          UserData: { LogFileCleared: { SubjectUserName: 'admin', SubjectDomainName: 'VILLE' } },
        },
      }),
      'windows',
    );
    expect(e.fields).toMatchObject({ EventID: 1102, SubjectUserName: 'admin', SubjectDomainName: 'VILLE' });
    const classic = parseLine(
      JSON.stringify({
        Event: { System: { EventID: 1, Channel: 'Application' }, EventData: { Data: ['a', 'b'] } },
      }),
      'windows',
    );
    expect(classic.fields.Data).toEqual(['a', 'b']);
    expect(classic.logsource).toEqual({ product: 'windows', service: 'application' });
  });

  it('keep JSON that is no Windows event raw, and never throw on any JSON', () => {
    expect(parseLine('{"Event":{"System":{"Channel":"Security"}}}', 'windows').parsed).toBe(false);
    expect(parseLine('{"hello":"world"}', 'windows')).toMatchObject({
      parsed: false,
      logsource: { product: 'windows' },
    });
    expect(
      parseLine('{"winlog":{"event_id":"4625","event_data":{"__proto__":{"x":1}}}}', 'windows').fields,
    ).not.toHaveProperty('x');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify({ Event: { System: v, EventData: v, UserData: v } })),
          fc
            .jsonValue()
            .map((v) => JSON.stringify({ winlog: { event_id: 4625, channel: 'Security', event_data: v } })),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        (line) => {
          const e = parseLine(line, 'windows');
          expect(e.raw).toBe(line);
          if (e.parsed) expect(typeof e.fields.EventID).toBe('number');
          else expect(e.fields).toEqual({});
        },
      ),
      { numRuns: 1000 },
    );
  });
});
