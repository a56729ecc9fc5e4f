/**
 * `rempart mail dovecot-config`: writes what an institution's mail server needs so that every IMAP
 * and submission login is checked by Rempart: a dovecot.conf, the Lua passdb that asks
 * `POST /api/mail/auth` with the gateway token (readable by its owner only), and the master.cf
 * lines for Postfix's submission service.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '@rempart/core';

export const MAIL_USAGE = `  mail dovecot-config --out DIR --mail-uid N --mail-gid N [--rempart URL] [--listen ADDR] [--imap-port P]
                      [--auth-port P] [--tls-cert FILE --tls-key FILE]
                                          write dovecot.conf, rempart-passdb.lua (mode 0600: it holds
                                          REMPART_MAIL_GATEWAY_TOKEN) and postfix-submission.cf (master.cf
                                          lines) into DIR, so that every IMAP and SMTP login asks Rempart`;

export class MailUsageError extends Error {}

const OPTIONS = {
  out: { type: 'string' },
  rempart: { type: 'string' },
  listen: { type: 'string' },
  'imap-port': { type: 'string' },
  'auth-port': { type: 'string' },
  'mail-uid': { type: 'string' },
  'mail-gid': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text))
    throw new MailUsageError(`--${name}: a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

export async function mailDovecotConfig(args: string[], config: Config): Promise<number> {
  let values: Partial<Record<keyof typeof OPTIONS, string>>;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new MailUsageError(error instanceof Error ? error.message : String(error));
  }
  if (!values.out) throw new MailUsageError('--out DIR is required');
  const mailUid = integer('mail-uid', values['mail-uid']);
  const mailGid = integer('mail-gid', values['mail-gid']);
  if (mailUid === undefined || mailGid === undefined) {
    throw new MailUsageError(
      '--mail-uid and --mail-gid are required: the system user every mailbox belongs to',
    );
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new MailUsageError('--tls-cert and --tls-key go together');
  }
  const token = config.mailGatewayToken;
  if (token === undefined) {
    throw new MailUsageError('set REMPART_MAIL_GATEWAY_TOKEN (the same value as the server’s) first');
  }
  const { dovecotConfig, dovecotLuaPassdb, postfixSubmissionService } = await import('@rempart/server');
  const out = resolve(values.out);
  const passdbPath = '/etc/dovecot/rempart-passdb.lua';
  const authPort = integer('auth-port', values['auth-port']);
  const imapPort = integer('imap-port', values['imap-port']);
  // Each generator checks its options and names every bad one before anything is written.
  const dovecot = dovecotConfig({
    mailUid,
    mailGid,
    luaPassdbPath: passdbPath,
    ...(values.listen === undefined ? {} : { listenAddress: values.listen }),
    ...(imapPort === undefined ? {} : { imapPort }),
    ...(authPort === undefined ? {} : { authPort }),
    ...(values['tls-cert'] && values['tls-key']
      ? { tls: { certPath: resolve(values['tls-cert']), keyPath: resolve(values['tls-key']) } }
      : {}),
  });
  const passdb = dovecotLuaPassdb({ rempartBase: values.rempart ?? config.publicUrl, token });
  const postfix = postfixSubmissionService(authPort === undefined ? {} : { dovecotAuthPort: authPort });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'dovecot.conf'), dovecot);
  writeFileSync(join(out, 'rempart-passdb.lua'), passdb, { mode: 0o600 });
  chmodSync(join(out, 'rempart-passdb.lua'), 0o600);
  writeFileSync(join(out, 'postfix-submission.cf'), postfix);
  console.log(
    `wrote ${join(out, 'dovecot.conf')}, ${join(out, 'rempart-passdb.lua')} (0600) and ${join(out, 'postfix-submission.cf')}`,
  );
  console.log(
    `install rempart-passdb.lua as ${passdbPath}, owned by dovecot (chown dovecot: ${passdbPath}); needs Debian's dovecot-imapd and dovecot-auth-lua`,
  );
  return 0;
}
