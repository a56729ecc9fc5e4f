/**
 * WhatsApp messages: spyware links were sent through WhatsApp as through SMS, and a WhatsApp
 * call's exploit (CVE-2019-3568) delivered Pegasus in 2019.
 *
 * `ChatStorage.sqlite` (Core Data) in the app group `group.net.whatsapp.WhatsApp.shared` (and
 * `group.net.whatsapp.WhatsAppSMB.shared` for WhatsApp Business): `ZWAMESSAGE(Z_PK, ZTEXT,
 * ZMESSAGEDATE, ZFROMJID, ZTOJID, ZMEDIAITEM)`, `ZMESSAGEDATE` in seconds since 2001-01-01, and
 * `ZWAMEDIAITEM(Z_PK, ZMEDIAURL)`.
 */
import type { ArtifactModule } from '../scan.js';
import { appleTime } from '../scan.js';
import { eachDatabaseOf, unique } from './artifacts.js';
import type { BackupFile, IosBackup } from './manifest.js';
import { asNumber, asText, columns, optional, rows } from './sqlite.js';

const DOMAINS = [
  'AppDomainGroup-group.net.whatsapp.WhatsApp.shared',
  'AppDomainGroup-group.net.whatsapp.WhatsAppSMB.shared',
];
const CHAT_STORAGE = 'ChatStorage.sqlite';

export function whatsappModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'whatsapp',
    async run(artifact) {
      const files = DOMAINS.map((domain) => backup.find(domain, CHAT_STORAGE)).filter(
        (file): file is BackupFile => file !== undefined,
      );
      await eachDatabaseOf(files, backup, artifact, 'WhatsApp (ChatStorage.sqlite)', (db, name) => {
        const have = columns(db, 'ZWAMESSAGE');
        if (have.size === 0) throw new Error('ChatStorage.sqlite has no ZWAMESSAGE table');
        const media = have.has('zmediaitem') && columns(db, 'ZWAMEDIAITEM').has('zmediaurl');
        const list = rows(
          db,
          `SELECT m.Z_PK AS pk, ${['m.ZTEXT', 'm.ZMESSAGEDATE', 'm.ZFROMJID', 'm.ZTOJID'].map((c) => optional(have, c)).join(', ')},
                  ${media ? 'i.ZMEDIAURL' : 'NULL'} AS ZMEDIAURL
           FROM ZWAMESSAGE m ${media ? 'LEFT JOIN ZWAMEDIAITEM i ON i.Z_PK = m.ZMEDIAITEM' : ''}
           ORDER BY m.Z_PK`,
        );
        for (const row of list) {
          const text = asText(row.ZTEXT) ?? '';
          const mediaUrl = asText(row.ZMEDIAURL) ?? '';
          const from = asText(row.ZFROMJID);
          const to = asText(row.ZTOJID);
          artifact.record(
            appleTime(asNumber(row.ZMESSAGEDATE)),
            name,
            `${[`message ${asText(row.pk) ?? ''}`, from ? `from ${from}` : '', to ? `to ${to}` : '']
              .filter((part) => part !== '')
              .join(' ')}: ${text}${mediaUrl !== '' ? ` (media ${mediaUrl})` : ''}`,
            unique([artifact.matcher.text(text), mediaUrl === '' ? [] : artifact.matcher.text(mediaUrl)]),
          );
        }
      });
    },
  };
}
