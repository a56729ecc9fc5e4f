/**
 * Messages (SMS and iMessage), from `HomeDomain/Library/SMS/sms.db`: the texts, and their
 * attachments. Pegasus was delivered by links in SMS and iMessages (Amnesty's 2021 forensic
 * methodology) and later by zero-click iMessage attachments (FORCEDENTRY), so both are read.
 *
 * sms.db tables read: `message` (ROWID, text, attributedBody, handle_id, date, is_from_me,
 * service), `handle` (ROWID, id: the phone number or e-mail address), `attachment` (ROWID,
 * filename, transfer_name, mime_type, created_date, total_bytes) and `message_attachment_join`.
 * `message.date` counts seconds since 2001-01-01, nanoseconds since iOS 11; `created_date` seconds.
 */
import type { Detection } from '@rempart/core';
import { IndicatorMatcher } from '../matcher.js';
import type { ArtifactModule } from '../scan.js';
import { appleMs, appleTime } from '../scan.js';
import { devicePath, eachDatabaseOf, unique } from './artifacts.js';
import type { BackupFile, IosBackup } from './manifest.js';
import { SqliteFileError, type SqliteFile } from './sqlite-file.js';
import {
  asNumber,
  asText,
  columns,
  eachValues,
  fileTable,
  optional,
  rows,
  sqliteFileOf,
  tables,
  type Database,
  type SqlValue,
} from './sqlite.js';

const DOMAIN = 'HomeDomain';
const NOTHING: readonly Detection[] = [];
const SMS_DB = 'Library/SMS/sms.db';

/**
 * Folders where Messages does not keep attachments: one stored there is worth a look (the
 * FORCEDENTRY exploit left its payloads under `/private/var/tmp/`), though only an indicator
 * makes a detection.
 */
const UNUSUAL_ATTACHMENT_FOLDERS = ['/private/var/tmp/', '/private/var/db/', '/private/var/root/'];

function smsDatabases(backup: IosBackup): BackupFile[] {
  const file = backup.find(DOMAIN, SMS_DB);
  return file === undefined ? [] : [file];
}

export function smsModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'sms',
    async run(artifact) {
      await eachDatabaseOf(smsDatabases(backup), backup, artifact, 'sms.db', (db, file) => {
        // Texts read in place in the file are kept as their spans there (see Timeline).
        const spans = sqliteFileOf(db);
        // A record is told in parts: the words around the message's ROWID are those of its
        // direction, other side and service, made once for each. By handle (the same strings
        // from message to message, their hash kept), then by service (a few, told apart from the
        // last one seen by comparing strings, cheaper than hashing a new one each row).
        const services: (string | undefined)[] = [];
        let lastService: string | undefined;
        let lastServiceIndex = -1;
        const sources = new Map<string, number[]>();
        const sourceOf = (handle: string, service: string | undefined, fromMe: boolean): number => {
          if (service !== lastService || lastServiceIndex === -1) {
            lastService = service;
            lastServiceIndex = services.indexOf(service);
            if (lastServiceIndex === -1) lastServiceIndex = services.push(service) - 1;
          }
          let ids = sources.get(handle);
          if (ids === undefined) sources.set(handle, (ids = []));
          const slot = lastServiceIndex * 2 + (fromMe ? 1 : 0);
          let id = ids[slot];
          if (id === undefined) {
            const who = handle === '' ? '' : ` ${fromMe ? 'to' : 'from'} ${handle}`;
            id = artifact.source(
              file,
              'message ',
              ` ${fromMe ? 'sent' : 'received'}${who}${service ? ` (${service})` : ''}: `,
              spans,
            );
            ids[slot] = id;
          }
          return id;
        };
        const mark = artifact.mark();
        // A text that cannot name anything is not even decoded: the timeline keeps its span.
        eachMessage(
          db,
          (message) => {
            const { rowid, text, handle, fromMe, service, textStart, textEnd } = message;
            // '' most often: a text left undecoded, which names nothing.
            const inText = text === '' ? NOTHING : artifact.matcher.text(text);
            const byHandle = handle.includes('@') ? artifact.matcher.email(handle) : undefined;
            const source = sourceOf(handle, service, fromMe);
            artifact.recordParts(
              appleMs(message.date),
              source,
              rowid,
              text,
              // Most messages name nothing: they skip building a list of detections.
              inText.length === 0 && byHandle === undefined ? undefined : unique([inText, byHandle]),
              textStart,
              textEnd,
            );
          },
          () => artifact.rollback(mark),
          IndicatorMatcher.utf8MayName,
        );
      });
    },
  };
}

/**
 * Whether the UTF-8 text at `start`…`end` of `bytes` is wanted decoded (IndicatorMatcher.utf8MayName:
 * whether it may name an indicator).
 */
export type TextWanted = (bytes: Uint8Array, start: number, end: number) => boolean;

/** One row of sms.db's `message` table, as the timeline tells it. */
export interface SmsMessage {
  rowid: number;
  /** `text`, or the string in `attributedBody` when `text` is NULL; '' when neither has one. */
  text: string;
  /** The phone number or e-mail address of the other side, '' when unknown. */
  handle: string;
  /** `date`: seconds or nanoseconds since 2001-01-01. */
  date: number | undefined;
  fromMe: boolean;
  service: string | undefined;
  /**
   * Where the text lies in the database file when the file reader read it in place (`SqliteFile.text`
   * gives it from there); -1 otherwise. When `text` is '' and the span is not empty, the text was
   * left undecoded (see eachMessage's `wanted`).
   */
  textStart: number;
  textEnd: number;
}

/**
 * Calls `visit` with each message of sms.db, by ROWID: the same object may be given again for the
 * next message, so what is kept must be copied (a million messages make no million objects).
 * Throws when the database has no `message` table. When the file reader stumbles on a damaged page
 * after some messages were visited, calls `undo`, and then visits every message again as sql.js
 * reads them. With `wanted`, a text the file reader reads in place is decoded only when `wanted`
 * says so; one it does not want is given as '' with its span (`textStart`, `textEnd`).
 *
 * Read for speed, as a phone can hold a million messages: only the columns used, the handles once
 * into a map rather than a string per row, `attributedBody` only when `text` is NULL; and straight
 * from the file (sqlite-file.ts) when the reader is sure to read what SQLite reads, through sql.js
 * otherwise.
 */
export function eachMessage(
  db: Database,
  visit: (message: SmsMessage) => void,
  undo: () => void = () => undefined,
  wanted?: TextWanted,
): void {
  const have = columns(db, 'message');
  if (have.size === 0) throw new Error('sms.db has no message table');
  const file = sqliteFileOf(db);
  if (file !== undefined && messagesFromFile(file, db, have, visit, undo, wanted)) return;
  // The other side's address, by handle ROWID, when the database links messages to handles.
  const handles = new Map<number, string>();
  const linked = tables(db).has('handle') && have.has('handle_id');
  if (linked)
    eachValues(db, 'SELECT ROWID, id FROM handle', [], ([rowid, id]) => {
      if (typeof rowid === 'number') handles.set(rowid, asText(id) ?? '');
    });
  const textColumn = have.has('text') ? 'm.text' : 'NULL';
  const bodyColumn = have.has('attributedbody')
    ? `CASE WHEN ${textColumn} IS NULL THEN m.attributedBody END`
    : 'NULL';
  const selected = ['m.date', 'm.is_from_me', 'm.service'].map((c) => optional(have, c)).join(', ');
  // The join keeps SQLite's own comparison of handle_id with the handle's ROWID; only the ROWID
  // (a number) crosses into JavaScript.
  eachValues(
    db,
    `SELECT m.ROWID, ${textColumn}, ${bodyColumn}, ${selected}, ${linked ? 'h.ROWID' : 'NULL'}
     FROM message m ${linked ? 'LEFT JOIN handle h ON h.ROWID = m.handle_id' : ''}
     ORDER BY m.ROWID`,
    [],
    ([rowid, text, body, date, fromMe, service, handle]) =>
      visit({
        rowid: asNumber(rowid) ?? 0,
        text: asText(text) ?? (body instanceof Uint8Array ? attributedBodyText(body) : ''),
        handle: typeof handle === 'number' ? (handles.get(handle) ?? '') : '',
        date: asNumber(date),
        fromMe: asNumber(fromMe) === 1,
        service: asText(service),
        textStart: -1,
        textEnd: -1,
      }),
  );
}

/**
 * eachMessage's query read from the file, each message visited: the join on the handle's ROWID
 * through a map, the CASE on attributedBody in JavaScript, ORDER BY ROWID as the B-tree's order.
 * False when the reader refuses the tables, nothing visited, or stumbles further on, `undo` then
 * called for what was visited: sql.js then reads them. (Reading once and undoing on the rare
 * damaged table costs less than checking every page before a first message is told.)
 */
export function messagesFromFile(
  file: SqliteFile,
  db: Database,
  have: Set<string>,
  visit: (message: SmsMessage) => void,
  undo: () => void = () => undefined,
  wanted?: TextWanted,
): boolean {
  const linked = tables(db).has('handle') && have.has('handle_id');
  const handles = new Map<number, string>();
  // Only the columns the table has are read; the others are NULL, as `optional` makes them.
  const select = ['rowid'];
  const at = (column: string): number => (have.has(column) ? select.push(column) - 1 : -1);
  const [text, body, date, fromMe, service] = ['text', 'attributedbody', 'date', 'is_from_me', 'service'].map(
    at,
  ) as [number, number, number, number, number];
  const handleId = linked ? at('handle_id') : -1;
  const value = (values: SqlValue[], index: number): SqlValue => (index === -1 ? null : values[index]!);
  let visited = 0;
  // One message, told again for each row (see eachMessage).
  const found: SmsMessage = {
    rowid: 0,
    text: '',
    handle: '',
    date: undefined,
    fromMe: false,
    service: undefined,
    textStart: -1,
    textEnd: -1,
  };
  /** What `visit` threw, told apart from what the reader throws. */
  let visitFailure: { error: unknown } | undefined;
  try {
    const message = fileTable(db, file, 'message');
    if (linked)
      file.eachRow(fileTable(db, file, 'handle'), ['rowid', 'id'], (rowid, [, id]) => {
        handles.set(rowid, asText(id) ?? '');
      });
    const { bytes } = file;
    const undecoded = wanted === undefined ? [] : ['text'];
    file.eachRow(
      message,
      select,
      (rowid, values, spans) => {
        const id = value(values, handleId);
        // SQLite compares a text or blob handle_id with the ROWID by affinity rules, and a 64-bit
        // one exactly: those are left to it.
        if (id !== null && (typeof id !== 'number' || Math.abs(id) > Number.MAX_SAFE_INTEGER))
          throw new SqliteFileError('handle_id not a plain integer');
        const blob = value(values, body);
        let read = asText(value(values, text));
        // Where the text lies in the file, when it was read in place (asText gives such a text as it
        // is) or is the string of an attributedBody read in place.
        found.textStart = -1;
        found.textEnd = -1;
        if (read !== undefined) {
          if (text !== -1 && typeof values[text] === 'string') {
            found.textStart = spans[2 * text]!;
            found.textEnd = spans[2 * text + 1]!;
            // Left undecoded by the reader: decoded when wanted.
            if (
              wanted !== undefined &&
              found.textStart !== -1 &&
              wanted(bytes, found.textStart, found.textEnd)
            )
              read = file.text(found.textStart, found.textEnd);
          }
        } else if (blob instanceof Uint8Array && spans[2 * body]! >= 0) {
          found.textStart = attributedSpanStart(blob, spans[2 * body]!);
          found.textEnd = attributedStringEnd;
          if (found.textStart !== -1 && wanted?.(bytes, found.textStart, found.textEnd) === false) read = '';
        }
        found.rowid = rowid;
        found.text = read ?? (blob instanceof Uint8Array ? attributedBodyText(blob) : '');
        found.handle = typeof id === 'number' ? (handles.get(id) ?? '') : '';
        found.date = asNumber(value(values, date));
        found.fromMe = asNumber(value(values, fromMe)) === 1;
        found.service = asText(value(values, service));
        visited++;
        try {
          visit(found);
        } catch (error) {
          visitFailure = { error };
          throw error;
        }
      },
      false,
      undecoded,
    );
  } catch {
    if (visitFailure !== undefined) throw visitFailure.error;
    // Whatever the reader stumbled on, what it told is undone: sql.js reads it all.
    if (visited > 0) undo();
    return false;
  }
  return true;
}

export function smsAttachmentsModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'sms_attachments',
    async run(artifact) {
      await eachDatabaseOf(smsDatabases(backup), backup, artifact, 'sms.db', (db, file) => {
        const have = columns(db, 'attachment');
        if (have.size === 0) throw new Error('sms.db has no attachment table');
        const all = tables(db);
        // The sender, through the join table, when the database has it.
        const joined = all.has('message_attachment_join') && all.has('message') && all.has('handle');
        const attachments = rows(
          db,
          `SELECT a.ROWID AS rowid, ${[
            'a.filename',
            'a.transfer_name',
            'a.mime_type',
            'a.created_date',
            'a.total_bytes',
          ]
            .map((c) => optional(have, c))
            .join(', ')}, ${joined ? 'h.id' : 'NULL'} AS handle
           FROM attachment a
           ${
             joined
               ? `LEFT JOIN message_attachment_join j ON j.attachment_id = a.ROWID
                  LEFT JOIN message m ON m.ROWID = j.message_id
                  LEFT JOIN handle h ON h.ROWID = m.handle_id`
               : ''
           }
           GROUP BY a.ROWID ORDER BY a.ROWID`,
        );
        for (const attachment of attachments) {
          const filename = asText(attachment.filename) ?? '';
          const transferName = asText(attachment.transfer_name) ?? '';
          const path = devicePath(filename);
          const mime = asText(attachment.mime_type);
          const size = asNumber(attachment.total_bytes);
          const handle = asText(attachment.handle);
          const unusual = UNUSUAL_ATTACHMENT_FOLDERS.find((folder) => path.startsWith(folder));
          const detections = unique([
            path === '' ? undefined : artifact.matcher.filePath(path),
            filename !== path && filename !== '' ? artifact.matcher.filePath(filename) : undefined,
            transferName === '' ? undefined : artifact.matcher.fileName(transferName),
          ]);
          artifact.record(
            appleTime(asNumber(attachment.created_date)),
            file,
            [
              `attachment ${asText(attachment.rowid) ?? ''} ${filename || transferName || '(no name)'}`,
              transferName !== '' && !filename.endsWith(transferName) ? `sent as ${transferName}` : '',
              mime ? `(${mime}${size !== undefined ? `, ${size} bytes` : ''})` : '(no MIME type)',
              handle ? `from ${handle}` : '',
              unusual ? `; suspicious: stored under ${unusual}, not in the Messages attachments folder` : '',
            ]
              .filter((part) => part !== '')
              .join(' '),
            detections,
          );
        }
      });
    },
  };
}

/**
 * The text of a message that iOS 16+ keeps only in `attributedBody`: an NSAttributedString
 * serialised by NSArchiver (the "typedstream" format). Its string follows the `NSString` class
 * name, as an `+` (0x2B) tag, a length (one byte; 0x81 then 2 bytes little-endian; 0x82 then 4)
 * and the UTF-8 bytes. When that shape is not found, the printable runs of the blob stand in: the
 * links in it are what matters here.
 */
export function attributedBodyText(blob: Uint8Array): string {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const start = attributedStringStart(bytes);
  if (start !== -1) return bytes.toString('utf8', start, attributedStringEnd);
  return (bytes.toString('latin1').match(/[\x20-\x7e]{4,}/g) ?? []).join(' ');
}

/** Where the string `attributedStringStart` found ends: set by it, so that no pair is made per message. */
let attributedStringEnd = 0;

/**
 * Where the string of an `attributedBody` starts in it (its end left in `attributedStringEnd`), -1
 * when its shape is not found (see `attributedBodyText`).
 */
function attributedStringStart(bytes: Buffer): number {
  const marker = bytes.indexOf('NSString');
  if (marker === -1) return -1;
  const tag = bytes.indexOf(0x2b, marker + 'NSString'.length);
  if (tag === -1 || tag >= marker + 'NSString'.length + 16 || tag + 1 >= bytes.length) return -1;
  const first = bytes[tag + 1]!;
  let length: number | undefined;
  let start = tag + 2;
  if (first < 0x80) length = first;
  else if (first === 0x81 && tag + 4 <= bytes.length)
    [length, start] = [bytes.readUInt16LE(tag + 2), tag + 4];
  else if (first === 0x82 && tag + 6 <= bytes.length)
    [length, start] = [bytes.readUInt32LE(tag + 2), tag + 6];
  if (length === undefined || start + length > bytes.length) return -1;
  attributedStringEnd = start + length;
  return start;
}

/**
 * Where the text of a message read in place lies in the file (`SmsMessage.textStart`), when it
 * does: `text` itself, or the string of `attributedBody` (`blob`, at `blobStart` in the file)
 * that `SqliteFile.text` decodes as `attributedBodyText` does, which is when it opens without a
 * byte order mark. Its end is left in `attributedStringEnd`.
 */
function attributedSpanStart(blob: Uint8Array, blobStart: number): number {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const start = attributedStringStart(bytes);
  if (start === -1 || (bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf))
    return -1;
  attributedStringEnd += blobStart;
  return blobStart + start;
}
