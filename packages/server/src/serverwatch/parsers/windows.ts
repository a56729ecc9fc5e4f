/**
 * Windows event log records as JSON, in the two shapes tools export them: evtx_dump's
 * (`{"Event": {"System": {…}, "EventData": {…}}}`, with attributes under `#attributes` or, with
 * `--separate-json-attributes`, under `<name>_attributes`) and Winlogbeat's
 * (`{"winlog": {"event_id", "channel", "provider_name", "event_data": {…}}, "@timestamp": …}`).
 *
 * Sigma rules name Windows fields as the event log does, flat: the EventData (or UserData) values
 * become top-level fields (`TargetUserName`, `IpAddress`, `CommandLine`, `Image`…), next to
 * `EventID` (a number), `Channel`, `Provider_Name`, `Computer`, `EventRecordID`, `Level`, `Task`,
 * `Keywords`. The log source follows Sigma's taxonomy appendix (Windows folder):
 *
 * | channel                                   | event ids          | logsource                                     |
 * |-------------------------------------------|--------------------|-----------------------------------------------|
 * | Microsoft-Windows-Sysmon/Operational      | 1                  | service sysmon, category process_creation     |
 * |                                           | 2                  | file_change                                   |
 * |                                           | 3                  | network_connection                            |
 * |                                           | 4, 16              | sysmon_status                                 |
 * |                                           | 5                  | process_termination                           |
 * |                                           | 6                  | driver_load                                   |
 * |                                           | 7                  | image_load                                    |
 * |                                           | 8                  | create_remote_thread                          |
 * |                                           | 9                  | raw_access_thread                             |
 * |                                           | 10                 | process_access                                |
 * |                                           | 11                 | file_event                                    |
 * |                                           | 12                 | registry_add (EventType CreateKey), registry_delete (DeleteKey, DeleteValue) |
 * |                                           | 13                 | registry_set                                  |
 * |                                           | 14                 | registry_rename                               |
 * |                                           | 15                 | create_stream_hash                            |
 * |                                           | 17, 18             | pipe_created                                  |
 * |                                           | 19, 20, 21         | wmi_event                                     |
 * |                                           | 22                 | dns_query                                     |
 * |                                           | 23                 | file_delete                                   |
 * |                                           | 24                 | clipboard_capture                             |
 * |                                           | 25                 | process_tampering                             |
 * |                                           | 26                 | file_delete_detected                          |
 * |                                           | 27                 | file_block_executable                         |
 * |                                           | 28                 | file_block_shredding                          |
 * |                                           | 29                 | file_executable_detected                      |
 * |                                           | 255                | sysmon_error                                  |
 * | Security                                  | any                | service security                              |
 * |                                           | 4688               | + category process_creation (`Image` from `NewProcessName`, `ParentImage` from `ParentProcessName`) |
 * | Microsoft-Windows-PowerShell/Operational, PowerShellCore/Operational | any | service powershell           |
 * |                                           | 4103 / 4104        | + category ps_module / ps_script              |
 * | Windows PowerShell                        | any                | service powershell-classic                    |
 * |                                           | 400 / 600 / 800    | + category ps_classic_start / ps_classic_provider_start / ps_classic_script |
 * | the other channels of the taxonomy        | any                | their service (`System` → system, `MSExchange Management` → msexchange-management, …) |
 *
 * Every event has `product: windows`. A registry_add/delete/set/rename event is also a
 * `registry_event` (Sysmon 12–14): `BROADER_CATEGORIES` says so for whoever matches log sources.
 */
import type { FieldValue, LogSource } from '../event.js';
import type { Fields } from './fields.js';

type JsonObject = { [key: string]: FieldValue };

/** Categories whose events a rule written for a broader category must also see. */
export const BROADER_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  registry_add: ['registry_event'],
  registry_delete: ['registry_event'],
  registry_set: ['registry_event'],
  registry_rename: ['registry_event'],
};

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const SYSMON_CATEGORIES: Record<number, string> = {
  1: 'process_creation',
  2: 'file_change',
  3: 'network_connection',
  4: 'sysmon_status',
  5: 'process_termination',
  6: 'driver_load',
  7: 'image_load',
  8: 'create_remote_thread',
  9: 'raw_access_thread',
  10: 'process_access',
  11: 'file_event',
  13: 'registry_set',
  14: 'registry_rename',
  15: 'create_stream_hash',
  16: 'sysmon_status',
  17: 'pipe_created',
  18: 'pipe_created',
  19: 'wmi_event',
  20: 'wmi_event',
  21: 'wmi_event',
  22: 'dns_query',
  23: 'file_delete',
  24: 'clipboard_capture',
  25: 'process_tampering',
  26: 'file_delete_detected',
  27: 'file_block_executable',
  28: 'file_block_shredding',
  29: 'file_executable_detected',
  255: 'sysmon_error',
};
const POWERSHELL_CATEGORIES: Record<number, string> = { 4103: 'ps_module', 4104: 'ps_script' };
const POWERSHELL_CLASSIC_CATEGORIES: Record<number, string> = {
  400: 'ps_classic_start',
  600: 'ps_classic_provider_start',
  800: 'ps_classic_script',
};

/** Sigma taxonomy appendix, Windows folder, services: channel → service (a Map: a channel named `constructor` finds nothing). */
const CHANNEL_SERVICES = new Map<string, string>(
  Object.entries({
    Application: 'application',
    'Microsoft-Windows-Application-Experience/Program-Telemetry': 'application-experience',
    'Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant': 'application-experience',
    'Microsoft-Windows-AppLocker/MSI and Script': 'applocker',
    'Microsoft-Windows-AppLocker/EXE and DLL': 'applocker',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment': 'applocker',
    'Microsoft-Windows-AppLocker/Packaged app-Execution': 'applocker',
    'Microsoft-Windows-AppModel-Runtime/Admin': 'appmodel-runtime',
    'Microsoft-Windows-AppXDeploymentServer/Operational': 'appxdeployment-server',
    'Microsoft-Windows-AppxPackaging/Operational': 'appxpackaging-om',
    'Microsoft-Windows-BitLocker/BitLocker Management': 'bitlocker',
    'Microsoft-Windows-Bits-Client/Operational': 'bits-client',
    'Microsoft-Windows-CAPI2/Operational': 'capi2',
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational':
      'certificateservicesclient-lifecycle-system',
    'Microsoft-Windows-CodeIntegrity/Operational': 'codeintegrity-operational',
    'Microsoft-Windows-DHCP-Server/Operational': 'dhcp',
    'Microsoft-Windows-Diagnosis-Scripted/Operational': 'diagnosis-scripted',
    'Microsoft-Windows-DNS Client Events/Operational': 'dns-client',
    'DNS Server': 'dns-server',
    'Microsoft-Windows-DNS-Server/Analytical': 'dns-server-analytic',
    'Microsoft-Windows-DNS-Server/Audit': 'dns-server-audit',
    'Microsoft-Windows-DriverFrameworks-UserMode/Operational': 'driver-framework',
    'Microsoft-Windows-Windows Firewall With Advanced Security/Firewall': 'firewall-as',
    'Microsoft-Windows-Hyper-V-Worker': 'hyper-v-worker',
    'Microsoft-IIS-Configuration/Operational': 'iis-configuration',
    'Microsoft-Windows-Kernel-EventTracing': 'kernel-event-tracing',
    'Microsoft-Windows-Kernel-ShimEngine/Operational': 'kernel-shimengine',
    'Microsoft-Windows-LDAP-Client/Debug': 'ldap',
    'Microsoft-Windows-LSA/Operational': 'lsa-server',
    'MSExchange Management': 'msexchange-management',
    'Microsoft-Windows-Ntfs/Operational': 'ntfs',
    'Microsoft-Windows-NTLM/Operational': 'ntlm',
    'OpenSSH/Operational': 'openssh',
    'Microsoft-Windows-PowerShell/Operational': 'powershell',
    'PowerShellCore/Operational': 'powershell',
    'Windows PowerShell': 'powershell-classic',
    'Microsoft-Windows-PrintService/Admin': 'printservice-admin',
    'Microsoft-Windows-PrintService/Operational': 'printservice-operational',
    Security: 'security',
    'Microsoft-Windows-Security-Mitigations/Kernel Mode': 'security-mitigations',
    'Microsoft-Windows-Security-Mitigations/User Mode': 'security-mitigations',
    'Microsoft-Windows-SENSE/Operational': 'sense',
    'Microsoft-ServiceBus-Client/Operational': 'servicebus-client',
    'Microsoft-ServiceBus-Client/Admin': 'servicebus-client',
    'Microsoft-Windows-Shell-Core/Operational': 'shell-core',
    'Microsoft-Windows-SmbClient/Security': 'smbclient-security',
    [SYSMON]: 'sysmon',
    System: 'system',
    'Microsoft-Windows-TaskScheduler/Operational': 'taskscheduler',
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational':
      'terminalservices-localsessionmanager',
    'Microsoft-Windows-VHDMP/Operational': 'vhdmp',
    'Microsoft-Windows-Windows Defender/Operational': 'windefend',
    'Microsoft-Windows-WMI-Activity/Operational': 'wmi',
  }),
);

const isObject = (v: FieldValue | undefined): v is JsonObject =>
  v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);

/** A value that evtx_dump may wrap with its attributes: `{ "#attributes": {…}, "#text": value }`. */
function text(v: FieldValue | undefined): FieldValue | undefined {
  return isObject(v) && '#text' in v ? v['#text'] : v;
}

function attribute(parent: JsonObject, name: string, attr: string): FieldValue | undefined {
  const separate = parent[`${name}_attributes`];
  if (isObject(separate) && separate[attr] !== undefined) return separate[attr];
  const own = parent[name];
  if (isObject(own)) {
    const attrs = own['#attributes'];
    if (isObject(attrs) && attrs[attr] !== undefined) return attrs[attr];
  }
  return undefined;
}

const EVENT_ID = /^\d{1,10}$/;

function toNumber(v: FieldValue | undefined): number | undefined {
  const t = text(v);
  if (typeof t === 'number' && Number.isInteger(t)) return t;
  if (typeof t === 'string' && EVENT_ID.test(t)) return Number(t);
  return undefined;
}

/** Copies the named values of EventData / UserData / event_data into `fields`, flat. */
function flatten(data: FieldValue | undefined, fields: Fields): void {
  if (!isObject(data)) return;
  for (const [key, value] of Object.entries(data)) {
    if (key === '#attributes' || key.endsWith('_attributes') || key === '__proto__') continue;
    if (key === 'Data' || key === '#text') {
      // Unnamed `<Data>` elements (classic providers): kept as a list, as Sigma's `Data` field.
      const v = text(value);
      if (v !== undefined) fields.Data = v;
      continue;
    }
    // UserData holds one element named by the provider (`<LogFileCleared>`…) whose children are
    // the values: one level further down.
    if (isObject(value) && !('#text' in value)) flatten(value, fields);
    else fields[key] = text(value) ?? null;
  }
}

/**
 * The time and fields of a Windows event in either JSON shape, and its Sigma log source; undefined
 * when the object is neither shape.
 */
export function windowsEvent(
  object: JsonObject,
): { time: number | undefined; fields: Fields; logsource: LogSource } | undefined {
  const fields: Fields = {};
  let time: number | undefined;
  const event = object.Event;
  const winlog = object.winlog;
  if (isObject(event) && isObject(event.System)) {
    const system = event.System;
    const eventId = toNumber(system.EventID);
    if (eventId === undefined) return undefined;
    fields.EventID = eventId;
    const channel = text(system.Channel);
    if (typeof channel === 'string') fields.Channel = channel;
    const provider = attribute(system, 'Provider', 'Name');
    if (typeof provider === 'string') fields.Provider_Name = provider;
    for (const key of ['Computer', 'EventRecordID', 'Level', 'Task', 'Opcode', 'Keywords', 'Version']) {
      const v = text(system[key]);
      if (v !== undefined && !isObject(v)) fields[key] = v;
    }
    const created = attribute(system, 'TimeCreated', 'SystemTime');
    if (typeof created === 'string') time = parseTime(created);
    flatten(event.EventData, fields);
    flatten(event.UserData, fields);
  } else if (isObject(winlog)) {
    const eventId = toNumber(winlog.event_id);
    if (eventId === undefined) return undefined;
    fields.EventID = eventId;
    if (typeof winlog.channel === 'string') fields.Channel = winlog.channel;
    if (typeof winlog.provider_name === 'string') fields.Provider_Name = winlog.provider_name;
    if (typeof winlog.computer_name === 'string') fields.Computer = winlog.computer_name;
    if (winlog.record_id !== undefined) fields.EventRecordID = winlog.record_id;
    if (winlog.task !== undefined) fields.Task = winlog.task;
    flatten(winlog.event_data, fields);
    flatten(winlog.user_data, fields);
    const at = object['@timestamp'];
    if (typeof at === 'string') time = parseTime(at);
  } else {
    return undefined;
  }
  return { time, fields, logsource: windowsLogsource(fields) };
}

function parseTime(value: string): number | undefined {
  // evtx_dump writes `2021-03-02 08:51:00.008 UTC` or RFC 3339; both read as UTC.
  const t = Date.parse(value.replace(' UTC', 'Z').replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : t;
}

/** The Sigma log source of a flattened Windows event (the table above); adds 4688's Sysmon names. */
export function windowsLogsource(fields: Fields): LogSource {
  const source: LogSource = { product: 'windows' };
  const channel = typeof fields.Channel === 'string' ? fields.Channel : undefined;
  const id = typeof fields.EventID === 'number' ? fields.EventID : -1;
  if (channel === undefined) return source;
  const service = CHANNEL_SERVICES.get(channel);
  if (service !== undefined) source.service = service;
  let category: string | undefined;
  if (channel === SYSMON) {
    category = SYSMON_CATEGORIES[id];
    if (id === 12) {
      const type = fields.EventType;
      category = type === 'DeleteKey' || type === 'DeleteValue' ? 'registry_delete' : 'registry_add';
    }
  } else if (service === 'security' && id === 4688) {
    category = 'process_creation';
    // Sigma's process_creation fields are Sysmon's (taxonomy "Process Creation Events"); 4688
    // names the same things differently.
    if (fields.Image === undefined && fields.NewProcessName !== undefined)
      fields.Image = fields.NewProcessName;
    if (fields.ParentImage === undefined && fields.ParentProcessName !== undefined) {
      fields.ParentImage = fields.ParentProcessName;
    }
  } else if (service === 'powershell') {
    category = POWERSHELL_CATEGORIES[id];
  } else if (service === 'powershell-classic') {
    category = POWERSHELL_CLASSIC_CATEGORIES[id];
  }
  if (category !== undefined) source.category = category;
  return source;
}
