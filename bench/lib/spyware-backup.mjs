/**
 * The spyware benchmark's backup: an iOS backup folder as the tests write it (the same
 * Manifest.db, plists and SQLite schemas, from packages/server/src/test-support/ios-backup.ts),
 * whose sms.db is then filled with `--messages` messages and History.db with `--visits` Safari
 * visits. A few hundred of them name indicators of the shipped Pegasus bundle; every other
 * record is checked to name none, so that what the scan must find is exactly what was planted.
 *
 *   node --import tsx bench/lib/spyware-backup.mjs DIR --messages 1000000 --visits 100000 --seed 7
 *
 * Runs under tsx because the backup writer is test support (TypeScript, not built). Progress goes
 * to stderr as `progress <text>` lines; the planted records are written to DIR/planted.json, and
 * DIR/complete last, so that a folder cut short by Ctrl+C is never taken for a finished one.
 *
 * The texts: short chats in French, English and Dutch (times, codes, amounts), some with ordinary
 * links or bare site names or e-mail addresses, some spread over several lines; a tenth kept only
 * in `attributedBody`, as iOS 16+ does. The histories: news, administration and search pages, some
 * reached through a link shortener's redirect, each page visited several times.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { parseArgs } from 'node:util';
import initSqlJs from 'sql.js';
import {
  attributedBody,
  backupContentPath,
  CLEAN_IOS_BACKUP,
  IOS_ARTIFACT_FILES,
  writeIosBackup,
} from '../../packages/server/src/test-support/ios-backup.ts';
import { IndicatorMatcher } from '../../packages/server/src/spyware/matcher.ts';
import { loadIndicatorFolder } from '../../packages/server/src/spyware/stix.ts';

const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);
/** The records span the three years before this date. */
const NEWEST = Date.UTC(2023, 2, 1);
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;
const CONTACTS = 400;
/** Share of the messages iOS 16+ would keep only in attributedBody. */
const ATTRIBUTED_SHARE = 0.1;
const DISTINCT_PAGES = 25_000;
const REDIRECT_SHARE = 0.03;
const PLANTED_MESSAGES = 300;
const PLANTED_VISITS = 60;

const say = (text) => process.stderr.write(`progress ${text}\n`);

/** A seeded generator of floats in [0, 1) (mulberry32): the same backup for the same seed. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHATS = [
  'ok',
  'Ok merci',
  "D'accord, à tout à l'heure",
  'Bien reçu, je regarde ça.',
  'Je suis en réunion, je te rappelle',
  'On se voit à {time} ?',
  "J'arrive dans {n} min",
  'Réunion reportée à jeudi {time}',
  'Tu as vu le mail de la direction ?',
  'Le dossier est sur le partage, version {n}',
  'Bonne soirée !',
  'Le train a {n} minutes de retard',
  'Votre code de vérification est {code}',
  'Merci pour hier, très bonne réunion',
  'Peux-tu relire la note avant {time} ?',
  'Le ministre arrive à {time}, salle {n}',
  'Montant du devis : {amount} € TTC',
  'Je te transfère le compte rendu',
  'Rdv devant le bâtiment B',
  'Can you call me back?',
  'Thanks, see you tomorrow',
  'Running late, {n} min',
  'Meeting moved to {time}',
  'Ik bel je straks',
  'Prima, tot morgen!',
  'Vergadering om {time} in zaal {n}',
  'Top 👍',
  '😂😂',
  'Joyeux anniversaire 🎂 !',
  'Oui',
  'Non, pas cette semaine',
  "C'est noté",
  'Je prends le dossier {code}',
  'Budget {amount} k€ validé',
];

const LINKS = [
  (r) =>
    `https://www.lemonde.fr/politique/article/2022/10/${int(r, 1, 28)}/reforme_${int(r, 1e6, 9e6)}_823448.html`,
  (r) => `https://youtu.be/${token(r, 11)}`,
  (r) => `https://www.rtbf.be/article/${int(r, 1e7, 9e7)}`,
  (r) => `https://nos.nl/artikel/${int(r, 2e6, 3e6)}-kabinet`,
  (r) => `https://maps.apple.com/?q=${int(r, 1, 200)}+rue+de+Grenelle&ll=48.85,2.32`,
  (r) => `https://www.service-public.fr/particuliers/vosdroits/F${int(r, 1000, 40000)}`,
  (r) => `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${token(r, 20)}%40thread.v2/0`,
  (r) => `https://www.legifrance.gouv.fr/jorf/id/JORFTEXT0000${int(r, 40000000, 49999999)}`,
  (r) =>
    `https://fr.wikipedia.org/wiki/${['Conseil_d%27%C3%89tat', 'Bruxelles', 'Sénat_(France)'][int(r, 0, 2)]}`,
  (r) => `http://www.meteo.be/fr/bruxelles?d=${int(r, 1, 30)}`,
];
const SITES = [
  'service-public.fr',
  'www.diplomatie.gouv.fr',
  'belgium.be',
  'rijksoverheid.nl',
  'impots.gouv.fr',
];
const PEOPLE = ['jean.dupont', 'marie.lambert', 'j.peeters', 'sophie.martin', 'a.janssens', 'l.bernard'];
const MAIL_DOMAINS = ['interieur.gouv.fr', 'premier-ministre.gouv.fr', 'diplomatie.be', 'minbuza.nl'];

function int(random, low, high) {
  return low + Math.floor(random() * (high - low + 1));
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function token(random, length) {
  let out = '';
  for (let i = 0; i < length; i++) out += TOKEN_CHARS[Math.floor(random() * TOKEN_CHARS.length)];
  return out;
}

function pick(random, list) {
  return list[Math.floor(random() * list.length)];
}

function chat(random) {
  return pick(random, CHATS)
    .replace('{time}', `${int(random, 7, 20)}:${String(int(random, 0, 59)).padStart(2, '0')}`)
    .replace('{n}', String(int(random, 2, 45)))
    .replace('{code}', String(int(random, 100000, 999999)))
    .replace('{amount}', `${int(random, 1, 999)}.${int(random, 10, 99)}`);
}

/** An ordinary message: mostly a short chat; sometimes a link, a site, an address, or several lines. */
function ordinaryText(random) {
  const roll = random();
  if (roll < 0.08) return `${chat(random)} ${pick(random, LINKS)(random)}`;
  if (roll < 0.09) return `C'est sur ${pick(random, SITES)}, rubrique ${int(random, 1, 9)}`;
  if (roll < 0.1) return `Écris à ${pick(random, PEOPLE)}@${pick(random, MAIL_DOMAINS)} de ma part`;
  if (roll < 0.15) return `${chat(random)}\n${chat(random)}\n${chat(random)}`;
  return chat(random);
}

/** `count` distinct indices of [0, size), spread evenly with a random start: where to plant. */
function spread(random, count, size) {
  const chosen = new Set();
  const step = size / count;
  for (let i = 0; i < count; i++) {
    let at = Math.min(size - 1, Math.floor(i * step + random() * step));
    while (chosen.has(at)) at = (at + 1) % size;
    chosen.add(at);
  }
  return chosen;
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      messages: { type: 'string', default: '1000000' },
      visits: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '20261203' },
    },
  });
  const dir = positionals[0];
  if (dir === undefined)
    throw new Error('usage: spyware-backup.mjs DIR [--messages N] [--visits N] [--seed S]');
  return build(dir, Number(values.messages), Number(values.visits), Number(values.seed));
}

async function build(dir, messageCount, visitCount, seed) {
  const random = seeded(seed);
  const matcher = IndicatorMatcher.from(loadIndicatorFolder());
  const pegasus = loadIndicatorFolder().find((b) => /pegasus/i.test(b.source));
  if (pegasus === undefined) throw new Error('the shipped Pegasus bundle is missing');
  const domains = pegasus.indicators.filter((i) => i.type === 'domain').map((i) => i.value);
  const emails = pegasus.indicators.filter((i) => i.type === 'email').map((i) => i.value);
  // The records the scan must find, and what each must be found by.
  const planted = [];

  say('writing the backup folder');
  await writeIosBackup(dir, { ...CLEAN_IOS_BACKUP, sms: [], safariVisits: [] });
  const SQL = await initSqlJs();
  const smsPath = backupContentPath(dir, IOS_ARTIFACT_FILES.sms.domain, IOS_ARTIFACT_FILES.sms.path);
  const historyPath = backupContentPath(
    dir,
    IOS_ARTIFACT_FILES.safariHistory.domain,
    IOS_ARTIFACT_FILES.safariHistory.path,
  );

  // --------------------------------------------------------------- sms.db
  const sms = new SQL.Database(readFileSync(smsPath));
  sms.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN');
  const handles = [];
  const addHandle = sms.prepare('INSERT INTO handle (ROWID, id, country, service) VALUES (?, ?, ?, ?)');
  for (let i = 1; i <= CONTACTS; i++) {
    const id =
      i % 8 === 0
        ? `${pick(random, PEOPLE)}${i}@icloud.com`
        : `+33${6 + (i % 2)}${String(int(random, 10000000, 99999999))}`;
    handles.push(id);
    addHandle.run([i, id, 'fr', id.includes('@') ? 'iMessage' : 'SMS']);
  }
  // Attackers' iCloud accounts from the bundle, as senders of some planted messages.
  const attackerHandles = emails.slice(0, 20).map((email, k) => {
    addHandle.run([CONTACTS + 1 + k, email, 'fr', 'iMessage']);
    return { rowid: CONTACTS + 1 + k, email };
  });
  addHandle.free();

  const plantedAt = spread(random, Math.min(PLANTED_MESSAGES, messageCount), messageCount);
  const addMessage = sms.prepare(
    `INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me, attributedBody)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const start = NEWEST - SPAN_MS;
  let planting = 0;
  for (let i = 0; i < messageCount; i++) {
    const rowid = i + 1;
    let text = ordinaryText(random);
    let handleId = 1 + Math.floor(random() * CONTACTS);
    let expect;
    if (plantedAt.has(i)) {
      const domain = domains[(planting * 7) % domains.length];
      const kind = planting % 10;
      if (kind < 6) text = `${chat(random)} https://${domain}/${token(random, 8)}`;
      else if (kind < 7) text = `Suivi du colis : ${domain}/${token(random, 6)}`;
      else if (kind < 8) text = `Voir www.${domain} avant ${int(random, 7, 20)}:00`;
      else if (kind < 9) text = `Tap https://${domain}/${token(random, 10)}?id=${int(random, 1, 99)} to see`;
      if (kind === 9) {
        const attacker = attackerHandles[planting % attackerHandles.length];
        handleId = attacker.rowid;
        expect = attacker.email;
      } else expect = domain;
      planted.push({ artifact: 'sms', key: `message ${rowid} `, indicator: expect });
      planting++;
    }
    const attributed = random() < ATTRIBUTED_SHARE;
    const at = start + (SPAN_MS * i) / messageCount + random() * 1000;
    addMessage.run([
      rowid,
      `${seed.toString(16)}-${rowid.toString(16).padStart(12, '0')}`,
      attributed ? null : text,
      handleId,
      handles[handleId - 1]?.includes('@') || handleId > CONTACTS ? 'iMessage' : 'SMS',
      // iOS 11+: nanoseconds since 2001, as an integer.
      Math.round((at - APPLE_EPOCH_MS) / 1000) * 1e9,
      random() < 0.45 ? 1 : 0,
      attributed ? attributedBody(text) : null,
    ]);
    if (expect === undefined && i % 1009 === 0) checkOrdinary(matcher, text);
    if (i % 50_000 === 0)
      say(`sms.db: ${i.toLocaleString('en-US')} of ${messageCount.toLocaleString('en-US')} messages`);
  }
  addMessage.free();
  sms.exec('COMMIT');
  say('sms.db: writing');
  writeFileSync(smsPath, sms.export());
  sms.close();

  // ----------------------------------------------------------- History.db
  const history = new SQL.Database(readFileSync(historyPath));
  history.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN');
  const pages = [];
  for (let i = 0; i < DISTINCT_PAGES; i++) pages.push(pick(random, LINKS)(random));
  const shortener = (r) => `https://bit.ly/${token(r, 7)}`;
  const addItem = history.prepare(
    'INSERT OR IGNORE INTO history_items (id, url, visit_count) VALUES (?, ?, 0)',
  );
  const itemIds = new Map();
  const itemOf = (url) => {
    let id = itemIds.get(url);
    if (id === undefined) {
      id = itemIds.size + 1;
      itemIds.set(url, id);
      addItem.run([id, url]);
    }
    return id;
  };
  const addVisit = history.prepare(
    `INSERT INTO history_visits (id, history_item, visit_time, title, redirect_source, redirect_destination)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  // Every so many visits, one to an indicator's page; every other one reached by a redirect.
  const plantEvery = visitCount / Math.min(PLANTED_VISITS, Math.floor(visitCount / 4));
  let nextPlant = plantEvery / 2;
  let plantedVisits = 0;
  let v = 0;
  while (v < visitCount) {
    const plant = v >= nextPlant;
    const redirected = v + 2 <= visitCount && (plant ? plantedVisits % 2 === 0 : random() < REDIRECT_SHARE);
    const at = (start + (SPAN_MS * v) / visitCount - APPLE_EPOCH_MS) / 1000;
    if (redirected) {
      v++;
      addVisit.run([v, itemOf(shortener(random)), at, null, null, v + 1]);
    }
    v++;
    let url = pages[Math.floor(random() ** 2 * pages.length)];
    if (plant) {
      const domain = domains[(plantedVisits * 13 + 5) % domains.length];
      url = `https://${domain}/${token(random, 12)}`;
      planted.push({ artifact: 'safari_history', key: `visit of ${url} `, indicator: domain });
      plantedVisits++;
      nextPlant += plantEvery;
    } else if (v % 997 === 0) checkOrdinary(matcher, url, true);
    addVisit.run([v, itemOf(url), at + 0.5, `Page ${v % 1000}`, redirected ? v - 1 : null, null]);
    if (v % 20_000 < 2)
      say(`History.db: ${v.toLocaleString('en-US')} of ${visitCount.toLocaleString('en-US')} visits`);
  }
  addVisit.free();
  addItem.free();
  history.exec(
    'UPDATE history_items SET visit_count = (SELECT COUNT(*) FROM history_visits v WHERE v.history_item = history_items.id); COMMIT',
  );
  const visits = history.exec('SELECT COUNT(*) FROM history_visits')[0].values[0][0];
  say('History.db: writing');
  writeFileSync(historyPath, history.export());
  history.close();

  writeFileSync(
    `${dir}/planted.json`,
    `${JSON.stringify({ seed, messages: messageCount, visits, planted }, null, 1)}\n`,
  );
  writeFileSync(`${dir}/complete`, '');
  say('done');
}

/** An ordinary record must name no indicator: otherwise the planted ones would not be all the scan finds. */
function checkOrdinary(matcher, text, isUrl = false) {
  const found = isUrl ? matcher.url(text) : matcher.text(text)[0];
  if (found) throw new Error(`an ordinary record names the indicator ${found.indicator}: ${text}`);
}

main().catch((error) => {
  process.stderr.write(`error ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
