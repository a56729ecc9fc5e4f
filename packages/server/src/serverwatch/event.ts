/**
 * What every part of the server watch shares: a log event as the parsers make it and the Sigma
 * engine reads it. The receivers (syslog, files, HTTP) produce lines, the parsers turn each line
 * into an event with the field names of Sigma's taxonomy, and the rules match those fields.
 */

/** Sigma's log source of an event (`logsource` of a rule): what produced it. */
export interface LogSource {
  /** `linux`, `windows`, … */
  product?: string;
  /** `sshd`, `postfix`, `dovecot`, `security`, `sysmon`, … */
  service?: string;
  /** `webserver`, `process_creation`, `authentication`, … */
  category?: string;
}

/** A field's value: what JSON holds (Windows events as JSON nest objects). */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** One event of a log, parsed. */
export interface WatchEvent {
  /** When it happened, in Unix milliseconds (the receiving time when the line does not say). */
  time: number;
  logsource: LogSource;
  /**
   * The event's fields under Sigma's taxonomy names (`c-ip`, `cs-uri-stem`, `TargetUserName`,
   * `IpAddress`, `EventID`, …), or the names the parser documents for formats Sigma does not name.
   * A line no parser understood has no field but `raw` is still searched by keyword rules.
   */
  fields: Record<string, FieldValue>;
  /** The line as received, whole. */
  raw: string;
  /**
   * The fields whose value the parser may have written itself rather than cut out of the line
   * (`action: 'login'`, a structured value with its escapes undone), when it knows them: every
   * other field then holds a number, a boolean or a part of `raw`, which the rules' prefilter
   * (sigma/prefilter.ts) has read in `raw` already. Undefined: nothing is known of any field.
   * Code that adds or changes a field after parsing names it here too, or drops the list.
   */
  composed?: readonly string[];
  /** Where it came from: a file's path, a syslog peer, `http`. */
  source?: string;
  /** Whether a parser understood it (false: kept raw, counted, still searchable). */
  parsed: boolean;
}
