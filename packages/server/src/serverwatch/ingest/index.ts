/**
 * Server watch ingestion: receivers that turn syslog messages, followed files and HTTP JSON lines
 * into lines on one bounded queue, for the parsers to make events of.
 *
 * @example
 *   const queue = new LineQueue({ capacity: 50_000 });
 *   const syslog = await startSyslog({ host: '0.0.0.0', port: 514 }, queue);
 *   const tail = await tailFile('/var/log/mail.log', {}, queue);
 *   const ingestHttp = createJsonLinesHandler(queue);
 *   for await (const batch of queue.batches(1000)) parseAndMatch(batch);
 */
export { LineQueue, LineQueueOptions, type DropReason, type IngestItem, type QueueStats } from './queue.js';
export { SyslogFramer, type FramedMessage, type Framing } from './framer.js';
export { LineSplitter } from './lines.js';
export { startSyslog, SyslogOptions, SyslogReceiver, type SyslogStats } from './syslog.js';
export { FileTail, tailFile, TailOptions, type TailStats } from './tail.js';
export {
  createJsonLinesHandler,
  JsonLinesOptions,
  type JsonLineError,
  type JsonLinesResult,
} from './http.js';
