#!/usr/bin/env node
/**
 * Leak check benchmark: seconds per 1080p image on one core, and images per minute on all
 * cores, for Rempart's whole check (OCR with the French model, which reads the letters of French,
 * English and Dutch, unless --languages says otherwise; QR codes and barcodes, metadata,
 * redacted copy), against the native Tesseract command line from Debian reading the very same
 * images with the same language models (`tesseract -l fra`, OCR only), in the same run. The goal of the leak check is under 1 s per 1080p image on one core.
 *
 *   node bench/leakcheck.mjs [--runs 3] [--seconds 15] [--languages fra]
 *
 * The images are generated here, the same on every run (seeded): screenshots of meeting
 * invitations and calendar entries in English, French and Dutch with links, meeting IDs,
 * passcodes and dial-in numbers, slides with a QR code, "photos" of such screens (turned a
 * few degrees, blurred, noisy, JPEG, one with GPS and camera metadata) and clean documents.
 *
 * Placement: on one core, Rempart's scanner process (a single OCR worker, its threads and
 * sharp's all pinned) and then each `tesseract` process run on the first allowed CPU, one
 * image at a time, in interleaved runs; this process waits on the second CPU. Then, on all
 * cores, Rempart has one OCR worker per core and is given the whole set at once, round after
 * round; the peer runs one `tesseract` per core over as many rounds. CPU taken by other
 * programs meanwhile is measured and flagged: on a shared machine it slows both engines.
 *
 * Exit status: 0 a clean run (when Tesseract is missing and cannot be installed, the peer is
 * skipped and the reason printed); 1 a scan failed or the benchmark could not run; 2 bad
 * usage or Rempart is not built.
 */
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import QRCode from 'qrcode';
import sharp from 'sharp';
import {
  allowedCpus,
  cpuSeconds,
  cpuTimes,
  exitedChildrenCpuSeconds,
  pinSelf,
  releaseOnExit,
  scratchDir,
  spawnNode,
  spawnPinned,
  stopChild,
} from './lib/processes.mjs';
import { aptInstall } from './lib/debian.mjs';
import { checkBuild } from './lib/build.mjs';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { histogram, median, percentile, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCANNER = fileURLToPath(new URL('./lib/leak-scanner.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const WIDTH = 1920;
const HEIGHT = 1080;
const SEED = 20261125;
/** The languages Rempart may read (the peer reads the same, in the same order) and its default. */
const REMPART_LANGUAGES = ['fra', 'eng', 'nld'];
const DEFAULT_LANGUAGES = ['fra'];
const PEER_PACKAGES = ['tesseract-ocr', 'tesseract-ocr-fra', 'tesseract-ocr-nld'];
/** Language data the peer may need, in Debian's tessdata folder (tesseract-ocr-eng comes with tesseract-ocr). */
const PEER_DATA = ['eng', 'fra', 'nld'];
const GOAL_SECONDS = 1;
/** Above this share of the CPUs measured used by other programs, the figures are flagged. */
const OTHER_LOAD_PERCENT = 10;
const SCAN_TIMEOUT_MS = 120_000;
const USAGE = `Usage: node bench/leakcheck.mjs [--runs R] [--seconds N] [--languages L]

  --runs R        runs of the set on one core, Rempart and the Tesseract peer interleaved (default 3)
  --seconds N     measured seconds of each engine on all cores, in whole rounds of the image set,
                  two rounds at least (default 15)
  --languages L   the languages both engines read, as REMPART_LEAKCHECK_LANGUAGES takes them
                  (default fra, Rempart's default; fra+eng+nld adds the English and Dutch models)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    languages: { type: 'string', default: DEFAULT_LANGUAGES.join('+') },
  });
  if (values.help) return undefined;
  const integer = (name) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a whole number ≥ 1`);
    return value;
  };
  const languages = values.languages.split('+');
  if (languages.some((l) => !REMPART_LANGUAGES.includes(l)) || new Set(languages).size !== languages.length) {
    throw new UsageError(
      `--languages takes distinct languages among ${REMPART_LANGUAGES.join(', ')} joined by "+"`,
    );
  }
  return { runs: integer('runs'), seconds: integer('seconds'), languages };
}

// -------------------------------------------------------------------- images

/** mulberry32: small, fast, and the same on every platform. */
function seeded(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => items[Math.floor(next() * items.length)],
    digits: (n) => Array.from({ length: n }, (_, i) => int(i === 0 ? 1 : 0, 9)).join(''),
    chars: (alphabet, n) => Array.from({ length: n }, () => alphabet[int(0, alphabet.length - 1)]).join(''),
  };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Passcode letters and digits, without those people mistake for each other (0O1lI). */
const PASSCODE = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const HEX = '0123456789abcdef';
const SANS = "'DejaVu Sans', 'Liberation Sans', sans-serif";
const SERIF = "'Liberation Serif', 'DejaVu Serif', serif";

/** The words of each screen, by language. */
const WORDS = {
  en: {
    app: { mail: 'Mail', calendar: 'Calendar' },
    folders: ['Inbox', 'Drafts', 'Sent Items', 'Archive', 'Deleted Items', 'Junk Email'],
    header: { from: 'From', to: 'To', date: 'Date', subject: 'Subject' },
    people: ['Sarah Whitfield', 'James Holloway', 'Emma Carter', 'Daniel Brooks', 'Olivia Grant'],
    domain: 'council.example.eu',
    titles: ['Crisis cell - weekly update', 'Budget review Q2', 'Cyber incident coordination'],
    weekdays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
    month: 'March 2026',
    when: 'Tuesday, 10 March 2026 10:00 - 11:00',
    location: 'Location',
    organiser: 'Organiser',
    buttons: ['Accept', 'Tentative', 'Decline'],
    subjects: [
      'Minutes of the steering committee',
      'Re: travel arrangements for the summit',
      'Updated agenda for Thursday',
      'Annual leave planning',
      'Fwd: press review',
      'Room booking confirmed',
      'Draft answer to the parliamentary question',
      'Training session on procurement',
    ],
    prose: [
      'Please find below the points we agreed to discuss during the next session.',
      'The working group will present its conclusions before the end of the month.',
      'Comments on the draft should reach the secretariat by Friday noon.',
      'The budget figures include the transfers approved at the last meeting.',
      'Interpretation will be provided in English, French and Dutch.',
      'The room on the third floor has been booked for the whole afternoon.',
    ],
  },
  fr: {
    app: { mail: 'Courrier', calendar: 'Calendrier' },
    folders: ['Boîte de réception', 'Brouillons', 'Éléments envoyés', 'Archives', 'Éléments supprimés'],
    header: { from: 'De', to: 'À', date: 'Date', subject: 'Objet' },
    people: ['Claire Dubois', 'Julien Lefèvre', 'Camille Moreau', 'Nicolas Garnier', 'Sophie Laurent'],
    domain: 'interieur.example.fr',
    titles: ['Cellule de crise - point hebdomadaire', 'Revue budgétaire T2', 'Comité de pilotage'],
    weekdays: ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi'],
    month: 'mars 2026',
    when: 'mardi 10 mars 2026 10:00 - 11:00',
    location: 'Lieu',
    organiser: 'Organisateur',
    buttons: ['Accepter', 'Provisoire', 'Refuser'],
    subjects: [
      'Compte rendu du comité de pilotage',
      'RE : déplacement au sommet de Bruxelles',
      'Ordre du jour mis à jour',
      'Planning des congés annuels',
      'TR : revue de presse',
      'Réservation de salle confirmée',
      'Projet de réponse à la question écrite',
      'Formation aux marchés publics',
    ],
    prose: [
      'Vous trouverez ci-dessous les points que nous avons convenu d’aborder lors de la prochaine séance.',
      'Le groupe de travail présentera ses conclusions avant la fin du mois.',
      'Les observations sur le projet doivent parvenir au secrétariat vendredi avant midi.',
      'Les montants tiennent compte des virements approuvés lors de la dernière réunion.',
      'L’interprétation sera assurée en français, en anglais et en néerlandais.',
      'La salle du troisième étage est réservée pour tout l’après-midi.',
    ],
  },
  nl: {
    app: { mail: 'Mail', calendar: 'Agenda' },
    folders: ['Postvak IN', 'Concepten', 'Verzonden items', 'Archief', 'Verwijderde items'],
    header: { from: 'Van', to: 'Aan', date: 'Datum', subject: 'Onderwerp' },
    people: ['Anke Peeters', 'Joris Van den Berg', 'Els Janssens', 'Pieter de Vries', 'Lotte Maes'],
    domain: 'binnenzaken.example.nl',
    titles: ['Crisiscel - wekelijkse update', 'Budgetbespreking K2', 'Stuurgroep'],
    weekdays: ['maandag', 'dinsdag', 'woensdag', 'donderdag', 'vrijdag'],
    month: 'maart 2026',
    when: 'dinsdag 10 maart 2026 10:00 - 11:00',
    location: 'Locatie',
    organiser: 'Organisator',
    buttons: ['Accepteren', 'Voorlopig', 'Weigeren'],
    subjects: [
      'Verslag van de stuurgroep',
      'RE: reis naar de top in Brussel',
      'Bijgewerkte agenda voor donderdag',
      'Planning jaarlijks verlof',
      'FW: persoverzicht',
      'Zaalreservering bevestigd',
      'Ontwerpantwoord op de schriftelijke vraag',
      'Opleiding overheidsopdrachten',
    ],
    prose: [
      'Hieronder vindt u de punten die we tijdens de volgende vergadering zullen bespreken.',
      'De werkgroep stelt haar conclusies voor het einde van de maand voor.',
      'Opmerkingen over het ontwerp moeten vrijdag voor de middag bij het secretariaat zijn.',
      'De bedragen omvatten de overschrijvingen die op de vorige vergadering zijn goedgekeurd.',
      'Er wordt getolkt in het Nederlands, het Frans en het Engels.',
      'De zaal op de derde verdieping is de hele namiddag gereserveerd.',
    ],
  },
};

/** The invitation text a meeting product writes, with fresh values; `link` is what a QR code would hold. */
function invitation(product, lang, random) {
  const group = (digits, sizes) => {
    let at = 0;
    return sizes.map((n) => digits.slice(at, (at += n))).join(' ');
  };
  const passcode = random.chars(PASSCODE, 6);
  switch (product) {
    case 'zoom': {
      const id = random.digits(11);
      const link = `https://us02web.zoom.us/j/${id}?pwd=${random.chars(BASE64URL, 32)}`;
      const pin = random.digits(6);
      const lines = {
        en: ['Join Zoom Meeting', link, `Meeting ID: ${group(id, [3, 4, 4])}`, `Passcode: ${passcode}`],
        fr: ['Participer à la réunion Zoom', link, `ID de réunion : ${group(id, [3, 4, 4])}`],
        nl: ['Deelnemen aan Zoom-vergadering', link, `Vergadering-ID: ${group(id, [3, 4, 4])}`],
      }[lang];
      if (lang === 'fr') lines.push(`Code secret : ${passcode}`);
      if (lang === 'nl') lines.push(`Toegangscode: ${passcode}`);
      lines.push(
        { en: 'One tap mobile', fr: 'Appel mobile en un clic', nl: 'Mobiel met één tik' }[lang],
        `+3227887766,,${id}#,,,,*${pin}# Belgium`,
        { en: 'Dial by your location', fr: 'Composez le numéro', nl: 'Inbellen' }[lang],
        '+32 2 788 7766 Belgium',
      );
      return { lines, link };
    }
    case 'teams': {
      const id = random.digits(12);
      const conference = random.digits(9);
      const link = `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${random.chars(HEX, 24)}%40thread.v2/0`;
      const labels = {
        en: ['Microsoft Teams meeting', 'Meeting ID:', 'Passcode:', 'Join by phone', 'Phone conference ID:'],
        fr: [
          'Réunion Microsoft Teams',
          'ID de réunion :',
          'Code secret :',
          'Rejoindre par téléphone',
          'ID de conférence :',
        ],
        nl: [
          'Microsoft Teams-vergadering',
          'Vergadering-ID:',
          'Wachtwoordcode:',
          'Telefonisch deelnemen',
          'Conferentie-ID:',
        ],
      }[lang];
      return {
        link,
        lines: [
          labels[0],
          link,
          `${labels[1]} ${group(id, [3, 3, 3, 3])}`,
          `${labels[2]} ${passcode}`,
          labels[3],
          `+33 1 70 37 97 29,,${conference}#`,
          `${labels[4]} ${group(conference, [3, 3, 3])}#`,
        ],
      };
    }
    case 'webex': {
      const number = random.digits(10);
      const link = `https://council.webex.com/council/j.php?MTID=m${random.chars(HEX, 32)}`;
      return {
        link,
        lines: [
          'Join Webex meeting',
          link,
          `Meeting number (access code): ${group(number, [4, 3, 3])}`,
          `Meeting password: ${passcode}`,
          'Join by phone',
          '+32-2-894-8221 Belgium toll',
        ],
      };
    }
    case 'jitsi': {
      const link = `https://meet.jit.si/BorderSecurityGroup${random.digits(4)}`;
      const pin = random.digits(10);
      return {
        link,
        lines: ['Join the call', link, 'Dial-in: +32 2 788 0123', `PIN: ${group(pin, [4, 4, 2])}#`],
      };
    }
    case 'rempart': {
      const link = `https://rempart.${WORDS[lang].domain}/m/${random.chars(BASE64URL, 22)}`;
      const lines = {
        en: [
          'You are invited to a protected Rempart meeting.',
          link,
          'This link is yours: do not forward it.',
        ],
        fr: [
          'Vous êtes invité à une réunion protégée Rempart.',
          link,
          'Ce lien est personnel : ne le transférez pas.',
        ],
        nl: [
          'U bent uitgenodigd voor een beveiligde Rempart-vergadering.',
          link,
          'Deze link is persoonlijk: stuur hem niet door.',
        ],
      }[lang];
      return { lines, link };
    }
    default:
      throw new Error(`unknown product ${product}`);
  }
}

const escapeXml = (s) =>
  String(s).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c],
  );

function text(
  x,
  y,
  value,
  { size = 16, weight = 'normal', fill = '#1f2328', family = SANS, anchor = 'start' } = {},
) {
  return `<text x="${x}" y="${y}" font-family="${family}" font-size="${size}" font-weight="${weight}" fill="${fill}" text-anchor="${anchor}">${escapeXml(value)}</text>`;
}

const rect = (x, y, w, h, fill, extra = '') =>
  `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}" ${extra}/>`;

const svg = (body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">${rect(0, 0, WIDTH, HEIGHT, '#ffffff')}${body}</svg>`;

/** A mail client: folders, the message list, and the invitation open in the reading pane. */
function mailScreen(lang, product, random) {
  const w = WORDS[lang];
  const { lines } = invitation(product, lang, random);
  const sender = random.pick(w.people);
  const title = random.pick(w.titles);
  const parts = [
    rect(0, 0, WIDTH, 56, '#0f4c81'),
    text(24, 36, w.app.mail, { size: 20, weight: 'bold', fill: '#ffffff' }),
  ];
  parts.push(rect(0, 56, 250, HEIGHT - 56, '#f3f4f6'));
  w.folders.forEach((folder, i) => parts.push(text(28, 104 + i * 40, folder, { size: 16 })));
  parts.push(rect(250, 56, 1, HEIGHT - 56, '#d0d7de'), rect(740, 56, 1, HEIGHT - 56, '#d0d7de'));
  for (let i = 0; i < 9; i++) {
    const y = 76 + i * 104;
    if (i === 0) parts.push(rect(251, y - 12, 489, 100, '#dbeafe'));
    parts.push(
      text(272, y + 20, i === 0 ? sender : random.pick(w.people), { size: 16, weight: 'bold' }),
      text(272, y + 46, i === 0 ? title : random.pick(w.subjects), { size: 15 }),
      text(272, y + 70, random.pick(w.prose).slice(0, 52), { size: 14, fill: '#57606a' }),
      text(716, y + 20, `${random.int(8, 17)}:${String(random.int(0, 59)).padStart(2, '0')}`, {
        size: 14,
        fill: '#57606a',
        anchor: 'end',
      }),
    );
  }
  const email = (name) =>
    `${name.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/ /g, '.')}@${w.domain}`;
  let y = 110;
  parts.push(text(780, y, title, { size: 26, weight: 'bold' }));
  for (const [label, value] of [
    [w.header.from, `${sender} <${email(sender)}>`],
    [w.header.to, `${random.pick(w.people)} <${email(random.pick(w.people))}>`],
    [w.header.date, w.when],
  ]) {
    y += 36;
    parts.push(text(780, y, `${label}:`, { size: 16, fill: '#57606a' }), text(880, y, value, { size: 16 }));
  }
  y += 50;
  parts.push(text(780, y, random.pick(w.prose), { size: 17 }));
  y += 44;
  for (const line of lines) {
    parts.push(text(780, y, line, { size: 18, weight: line === lines[0] ? 'bold' : 'normal' }));
    y += 34;
  }
  y += 16;
  for (const line of [random.pick(w.prose), random.pick(w.prose)]) {
    parts.push(text(780, y, line, { size: 17 }));
    y += 32;
  }
  return { svg: svg(parts.join('')) };
}

/** A calendar: the week grid, and the selected meeting's details with its invitation. */
function calendarScreen(lang, product, random) {
  const w = WORDS[lang];
  const { lines } = invitation(product, lang, random);
  const parts = [
    rect(0, 0, WIDTH, 56, '#1a7f37'),
    text(24, 36, w.app.calendar, { size: 20, weight: 'bold', fill: '#ffffff' }),
    text(260, 36, w.month, { size: 20, fill: '#ffffff' }),
  ];
  const left = 80;
  const dayWidth = 210;
  const top = 110;
  const hour = 86;
  w.weekdays.forEach((day, d) =>
    parts.push(text(left + d * dayWidth + 12, 90, `${day} ${9 + d}`, { size: 16, weight: 'bold' })),
  );
  for (let h = 0; h <= 10; h++) {
    parts.push(
      rect(left, top + h * hour, dayWidth * 5, 1, '#d0d7de'),
      text(16, top + h * hour + 18, `${8 + h}:00`, { size: 14, fill: '#57606a' }),
    );
  }
  for (let d = 0; d <= 5; d++) parts.push(rect(left + d * dayWidth, top, 1, hour * 10, '#d0d7de'));
  // The open meeting is on Tuesday the 10th at 10:00, as its details say (WORDS[lang].when).
  const title = random.pick(w.titles);
  for (let d = 0; d < 5; d++) {
    for (const [i, start] of [random.int(0, 2), random.int(4, 7)].entries()) {
      const chosen = d === 1 && i === 0;
      const s = chosen ? 2 : start;
      const x = left + d * dayWidth + 4;
      const y = top + s * hour + 3;
      parts.push(
        rect(x, y, dayWidth - 8, hour - 6, chosen ? '#1a7f37' : '#dafbe1', 'rx="4"'),
        text(x + 8, y + 22, (chosen ? title : random.pick(w.subjects)).slice(0, 22), {
          size: 14,
          weight: 'bold',
          fill: chosen ? '#ffffff' : '#1f2328',
        }),
        text(x + 8, y + 44, `${8 + s}:00 - ${9 + s}:00`, { size: 13, fill: chosen ? '#ffffff' : '#57606a' }),
      );
    }
  }
  const pane = left + dayWidth * 5 + 30;
  parts.push(rect(pane - 14, 56, 1, HEIGHT - 56, '#d0d7de'));
  let y = 110;
  parts.push(text(pane, y, title, { size: 24, weight: 'bold' }));
  for (const line of [
    w.when,
    `${w.location}: ${product === 'rempart' ? 'Rempart' : 'Online'}`,
    `${w.organiser}: ${random.pick(w.people)}`,
  ]) {
    y += 34;
    parts.push(text(pane, y, line, { size: 16 }));
  }
  y += 24;
  w.buttons.forEach((label, i) => {
    parts.push(
      rect(pane + i * 150, y, 136, 36, '#f6f8fa', 'rx="6" stroke="#d0d7de"'),
      text(pane + i * 150 + 68, y + 24, label, { size: 15, anchor: 'middle' }),
    );
  });
  y += 80;
  for (const line of lines) {
    // The pane is narrow: long links wrap as calendar clients wrap them.
    for (let at = 0; at < line.length; at += 58) {
      parts.push(
        text(pane, y, line.slice(at, at + 58), { size: 15, weight: line === lines[0] ? 'bold' : 'normal' }),
      );
      y += 28;
    }
  }
  return { svg: svg(parts.join('')) };
}

/** A slide shown on a screen: the meeting's details and a QR code holding its link. */
function slideScreen(lang, product, random) {
  const { lines, link } = invitation(product, lang, random);
  const heading = { en: 'Scan to join', fr: 'Scannez pour rejoindre', nl: 'Scan om deel te nemen' }[lang];
  const parts = [
    rect(0, 0, WIDTH, 150, '#0f4c81'),
    text(100, 100, random.pick(WORDS[lang].titles), { size: 54, weight: 'bold', fill: '#ffffff' }),
    text(100, 250, heading, { size: 40, weight: 'bold' }),
  ];
  let y = 330;
  for (const line of lines.slice(1)) {
    parts.push(text(100, y, line.length > 60 ? `${line.slice(0, 57)}…` : line, { size: 28 }));
    y += 52;
  }
  parts.push(text(100, HEIGHT - 60, WORDS[lang].when, { size: 24, fill: '#57606a' }));
  return { svg: svg(parts.join('')), qr: { text: link, left: 1340, top: 260, size: 480 } };
}

/** A memo with nothing to report: prose, a table of figures, dates and rooms. */
function documentScreen(lang, random) {
  const w = WORDS[lang];
  const heading = { en: 'MEMORANDUM', fr: 'NOTE', nl: 'NOTA' }[lang];
  const parts = [
    rect(360, 0, 1200, HEIGHT, '#fbfbf8'),
    text(420, 100, heading, { size: 34, weight: 'bold', family: SERIF }),
  ];
  let y = 160;
  for (const [label, value] of [
    [w.header.to, random.pick(w.people)],
    [w.header.from, random.pick(w.people)],
    [w.header.date, w.when.split(/ \d+:/)[0]],
    [w.header.subject, random.pick(w.subjects)],
  ]) {
    parts.push(
      text(420, y, `${label}:`, { size: 20, weight: 'bold', family: SERIF }),
      text(600, y, value, { size: 20, family: SERIF }),
    );
    y += 36;
  }
  y += 24;
  for (let i = 0; i < 8; i++) {
    parts.push(text(420, y, random.pick(w.prose), { size: 20, family: SERIF }));
    y += 34;
  }
  y += 20;
  const rows = [
    ['', 'Q1', 'Q2', 'Q3'],
    ...w.titles.map((title) => [
      title.slice(0, 30),
      ...[0, 1, 2].map(() => `${random.int(10, 990)} ${random.int(100, 999)} €`),
    ]),
  ];
  for (const row of rows) {
    row.forEach((cell, c) =>
      parts.push(
        text(c === 0 ? 420 : 840 + c * 190, y, cell, {
          size: 19,
          family: SERIF,
          anchor: c === 0 ? 'start' : 'end',
          weight: row === rows[0] ? 'bold' : 'normal',
        }),
      ),
    );
    parts.push(rect(420, y + 12, 1080, 1, '#c9c9c0'));
    y += 40;
  }
  return { svg: svg(parts.join('')) };
}

/**
 * The set: what each image is, and how it is made. A photo is the screen turned a few
 * degrees inside a dark frame, blurred, with sensor noise and lower contrast, saved as JPEG.
 */
const IMAGE_SET = [
  { name: 'en-zoom-mail', screen: 'mail', lang: 'en', product: 'zoom', format: 'png' },
  { name: 'fr-teams-calendar', screen: 'calendar', lang: 'fr', product: 'teams', format: 'png' },
  { name: 'nl-rempart-mail', screen: 'mail', lang: 'nl', product: 'rempart', format: 'png' },
  { name: 'en-webex-calendar', screen: 'calendar', lang: 'en', product: 'webex', format: 'jpeg' },
  { name: 'fr-zoom-slide-qr', screen: 'slide', lang: 'fr', product: 'zoom', format: 'png' },
  { name: 'nl-teams-calendar', screen: 'calendar', lang: 'nl', product: 'teams', format: 'jpeg' },
  {
    name: 'en-teams-mail-photo',
    screen: 'mail',
    lang: 'en',
    product: 'teams',
    format: 'jpeg',
    photo: { angle: 3, blur: 0.9, noise: 10, contrast: 0.85, exif: true },
  },
  {
    name: 'fr-rempart-calendar-photo',
    screen: 'calendar',
    lang: 'fr',
    product: 'rempart',
    format: 'jpeg',
    photo: { angle: -2.5, blur: 1.1, noise: 8, contrast: 0.8 },
  },
  {
    name: 'nl-zoom-mail-photo',
    screen: 'mail',
    lang: 'nl',
    product: 'zoom',
    format: 'jpeg',
    photo: { angle: 4, blur: 0.8, noise: 12, contrast: 0.7 },
  },
  {
    name: 'en-jitsi-slide-qr-photo',
    screen: 'slide',
    lang: 'en',
    product: 'jitsi',
    format: 'jpeg',
    photo: { angle: -1.5, blur: 1, noise: 10, contrast: 0.85 },
  },
  { name: 'en-document-clean', screen: 'document', lang: 'en', format: 'png' },
  {
    name: 'fr-document-clean-photo',
    screen: 'document',
    lang: 'fr',
    format: 'jpeg',
    photo: { angle: 2, blur: 0.9, noise: 8, contrast: 0.85 },
  },
];

/** Metadata a phone camera writes: where, with what, whose. */
const CAMERA_EXIF = {
  IFD0: { Make: 'Samsung', Model: 'Galaxy S23', Artist: 'J. Holloway' },
  IFD3: {
    GPSLatitudeRef: 'N',
    GPSLatitude: '50/1 50/1 4812/100',
    GPSLongitudeRef: 'E',
    GPSLongitude: '4/1 22/1 1200/100',
  },
};

/** Grainy sensor noise, the same for a given seed: each byte moved by about ±`amount`. */
function addNoise(data, amount, random) {
  for (let i = 0; i < data.length; i++) {
    const n = (random.next() + random.next() + random.next() - 1.5) * amount * 1.4;
    data[i] = Math.max(0, Math.min(255, data[i] + n));
  }
}

async function renderImage(spec, random) {
  const screen =
    spec.screen === 'mail'
      ? mailScreen(spec.lang, spec.product, random)
      : spec.screen === 'calendar'
        ? calendarScreen(spec.lang, spec.product, random)
        : spec.screen === 'slide'
          ? slideScreen(spec.lang, spec.product, random)
          : documentScreen(spec.lang, random);
  let image = sharp(Buffer.from(screen.svg));
  if (screen.qr) {
    const code = await QRCode.toBuffer(screen.qr.text, {
      margin: 2,
      width: screen.qr.size,
      errorCorrectionLevel: 'M',
    });
    image = sharp(await image.png().toBuffer()).composite([
      { input: code, left: screen.qr.left, top: screen.qr.top },
    ]);
  }
  if (spec.photo) {
    const { angle, blur, noise, contrast, exif } = spec.photo;
    const flat = await image.png().toBuffer();
    // Turned inside a dark frame (the screen's bezel and the desk), then cropped to 1080p again.
    const turned = await sharp(flat).rotate(angle, { background: '#202224' }).png().toBuffer();
    const framed = await sharp(turned)
      .resize(WIDTH, HEIGHT, { fit: 'cover' })
      .blur(blur)
      .linear(contrast, 128 * (1 - contrast) + 10)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    addNoise(framed.data, noise, random);
    const { width, height, channels } = framed.info;
    image = sharp(framed.data, { raw: { width, height, channels } });
    if (exif) image = image.withExif(CAMERA_EXIF);
  }
  return spec.format === 'jpeg'
    ? image.jpeg({ quality: spec.photo ? 82 : 90 }).toBuffer()
    : image.png().toBuffer();
}

/** Writes the set to `dir`; the same seed gives the same files, byte for byte. */
async function generateImages(dir) {
  const random = seeded(SEED);
  const images = [];
  for (const spec of IMAGE_SET) {
    progress(`generating images ${images.length + 1}/${IMAGE_SET.length}`);
    const bytes = await renderImage(spec, random);
    const file = join(dir, `${spec.name}.${spec.format === 'jpeg' ? 'jpg' : 'png'}`);
    writeFileSync(file, bytes);
    const { name, screen, lang, product, format, photo } = spec;
    images.push({
      name,
      screen,
      lang,
      product: product ?? null,
      format,
      photo: Boolean(photo),
      bytes: bytes.length,
      file,
    });
  }
  progress(`generated ${images.length} images of ${WIDTH}×${HEIGHT}`, true);
  return images;
}

// ---------------------------------------------------------------- the engines

const tesseractWorks = () => {
  const run = spawnSync('tesseract', ['--list-langs'], { encoding: 'utf8' });
  if (run.status !== 0) return false;
  const listed = new Set(run.stdout.split('\n').map((l) => l.trim()));
  return PEER_DATA.every((lang) => listed.has(lang));
};

/**
 * Tesseract and its French and Dutch data from Debian, installed when they are missing and
 * this process may; false, with the reason printed, when the peer cannot run.
 */
function ensureTesseract() {
  if (tesseractWorks()) return true;
  const how = `apt-get install -y ${PEER_PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(
      `bench: Tesseract (${PEER_DATA.join('+')}) is not installed, so the peer is skipped. As root: ${how}`,
    );
    return false;
  }
  progress(`installing the peer from Debian (${how})`, true);
  const failed = aptInstall(PEER_PACKAGES);
  if (failed) {
    console.error(`bench: installing Tesseract failed, so the peer is skipped:\n${failed}`);
    return false;
  }
  return tesseractWorks();
}

function versions(withPeer) {
  const packageVersion = (name) => {
    try {
      return JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')).version;
    } catch {
      return undefined;
    }
  };
  const debian = (name) =>
    spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' }).stdout || undefined;
  const peer = withPeer
    ? {
        tesseract: /tesseract (\S+)/.exec(
          spawnSync('tesseract', ['--version'], { encoding: 'utf8' }).stdout ?? '',
        )?.[1],
        data: Object.fromEntries(PEER_DATA.map((lang) => [lang, debian(`tesseract-ocr-${lang}`)])),
      }
    : undefined;
  return {
    node: process.version,
    tesseractJs: packageVersion('tesseract.js'),
    sharp: packageVersion('sharp'),
    peer,
  };
}

/**
 * Rempart's scanner in its own process (bench/lib/leak-scanner.mjs) on `cpu`, with `workers`
 * OCR workers; resolves once the pool is ready, with the time it took.
 */
async function startScanner({ cpu, workers, languages }) {
  const child = spawnNode([SCANNER], { cpu, cwd: ROOT, env: process.env, ipc: true });
  const waiting = new Map();
  let failure;
  const failed = new Promise((_, reject) => (failure = reject));
  failed.catch(() => undefined);
  child.on('message', (message) => {
    if (message.type === 'error') failure(new Error(`Rempart's scanner failed: ${message.message}`));
    else waiting.get(message.type === 'started' ? 'start' : message.id)?.(message);
  });
  child.once('exit', (code, signal) =>
    failure(new Error(`Rempart's scanner stopped (${signal ?? `exit ${code}`}):\n${child.outputTail()}`)),
  );
  /** The scanner's answer to `message`, unless it fails or is silent for `timeoutMs`. */
  const ask = async (key, message, timeoutMs) => {
    let timer;
    try {
      return await Promise.race([
        new Promise((resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Rempart's scanner gave no answer in ${timeoutMs / 1000} s`)),
            timeoutMs,
          );
          waiting.set(key, resolve);
          child.send(message);
        }),
        failed,
      ]);
    } finally {
      clearTimeout(timer);
      waiting.delete(key);
    }
  };
  try {
    const started = await ask('start', { type: 'start', workers, languages }, SCAN_TIMEOUT_MS);
    let next = 0;
    return {
      pid: child.pid,
      startSeconds: started.ms / 1000,
      /** One image, timed inside the scanner process. */
      scan: async (image) => {
        const id = next++;
        const reply = await ask(id, { type: 'scan', id, file: image.file }, SCAN_TIMEOUT_MS);
        return { seconds: reply.ms / 1000, views: reply.views, findings: reply.findings };
      },
      close: async () => {
        if (child.connected) child.send({ type: 'stop' });
        const exited = once(child, 'exit');
        let timer;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
        await stopChild(child);
      },
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** Words the peer read with a confidence of 60 or more, from its TSV (level 5 rows are words). */
function confidentWords(tsv) {
  return tsv
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((f) => f[0] === '5' && Number(f[10]) >= 60 && (f[11] ?? '').trim() !== '').length;
}

/**
 * One `tesseract` process reading one image, on `cpu`: what the command line costs per image,
 * from the process's start (language data loaded each time) to its exit.
 */
async function peerRead(file, cpu, languages) {
  const began = performance.now();
  const child = spawnPinned('tesseract', [file, 'stdout', '-l', languages.join('+'), 'tsv'], {
    cpu,
    cwd: ROOT,
    env: { ...process.env, OMP_THREAD_LIMIT: '1' },
  });
  let tsv = '';
  child.stdout.on('data', (chunk) => (tsv += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), SCAN_TIMEOUT_MS);
  try {
    const [code, signal] = await once(child, 'close');
    const seconds = (performance.now() - began) / 1000;
    if (code !== 0)
      throw new Error(`tesseract failed on ${file} (${signal ?? `exit ${code}`}):\n${child.outputTail()}`);
    return { seconds, words: confidentWords(tsv) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `task` on every item, `concurrency` at a time. */
async function inPool(items, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

// ----------------------------------------------------------------- measures

const sum = (values) => values.reduce((a, b) => a + b, 0);
const seconds = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: median(sorted), p90: percentile(sorted, 90), min: sorted[0], max: sorted.at(-1) };
};

/** CPU seconds this process has used, every thread. */
const ownCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/**
 * Starts watching `cpuIds` while an engine runs; `engineCpu` reads the CPU seconds the engine
 * has used so far. The returned function tells how much of those CPUs other programs took in
 * the meantime: on a shared machine, a program taking turns with the engine slows it down
 * without showing in the engine's own figures.
 */
function watchLoad(cpuIds, engineCpu) {
  const before = { at: performance.now(), cores: cpuTimes(), engine: engineCpu() };
  return () => {
    const cores = cpuTimes();
    const wall = (performance.now() - before.at) / 1000;
    const ids = cpuIds.length > 0 ? cpuIds : [...cores.keys()];
    const busy = sum(ids.map((id) => (cores.get(id)?.busy ?? 0) - (before.cores.get(id)?.busy ?? 0)));
    const engine = engineCpu() - before.engine;
    return {
      engineCores: engine / wall,
      othersPercent: (Math.max(0, busy - engine) / (wall * ids.length)) * 100,
    };
  };
}

/** Rempart on one core: one OCR worker, pinned with its whole process; started, warmed up, then kept for every run. */
async function startOneCore(images, options, placement) {
  progress('one core: starting Rempart’s scanner (1 OCR worker)');
  const scanner = await startScanner({ cpu: placement.oneCpu, workers: 1, languages: options.languages });
  progress('one core: Rempart’s first image (warm-up)');
  const first = await scanner.scan(images[0]);
  return { scanner, startup: { poolSeconds: scanner.startSeconds, firstImageSeconds: first.seconds } };
}

/** One image after another, each timed; `label` says where the run is. */
async function oneCoreRun(images, read, label, watch) {
  const results = [];
  const loadOf = watch();
  for (const image of images) {
    progress(`${label}: ${results.length + 1}/${images.length} ${image.name}`);
    results.push(await read(image));
  }
  return { results, load: loadOf() };
}

/** The peer's own start-up: a `tesseract` process on a blank image loads its data and finds nothing. */
async function peerStartup(dir, cpu, languages) {
  const blank = join(dir, 'blank.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
    .png()
    .toFile(blank);
  await peerRead(blank, cpu, languages);
  const samples = [];
  for (let i = 0; i < 3; i++) samples.push((await peerRead(blank, cpu, languages)).seconds);
  return median(samples);
}

/**
 * Whole rounds of the set on every core until `options.seconds` have passed (at least two):
 * `round` reads the set once and resolves when the last image is read.
 */
async function roundsFor(images, options, round, label, watch) {
  const rounds = [];
  const loadOf = watch();
  const began = performance.now();
  while (rounds.length < 2 || performance.now() - began < options.seconds * 1000) {
    progress(`${label}: round ${rounds.length + 1}`);
    const start = performance.now();
    await round();
    const elapsed = (performance.now() - start) / 1000;
    rounds.push({ seconds: elapsed, imagesPerMinute: (images.length / elapsed) * 60 });
  }
  const total = sum(rounds.map((r) => r.seconds));
  return { rounds, imagesPerMinute: ((images.length * rounds.length) / total) * 60, load: loadOf() };
}

async function allCoresRempart(images, options, placement) {
  const label = `all cores: Rempart (${placement.cores} OCR workers)`;
  progress(`${label}: starting`);
  const scanner = await startScanner({
    cpu: placement.allCpus,
    workers: placement.cores,
    languages: options.languages,
  });
  try {
    // Every worker reads once before the clock starts, as on one core.
    progress(`${label}: warm-up`);
    await Promise.all(images.slice(0, placement.cores).map((image) => scanner.scan(image)));
    const measured = await roundsFor(
      images,
      options,
      () => Promise.all(images.map((image) => scanner.scan(image))),
      label,
      () => watchLoad(placement.cpuIds, () => cpuSeconds(scanner.pid) + ownCpuSeconds()),
    );
    return { ...measured, workers: placement.cores, startSeconds: scanner.startSeconds };
  } finally {
    await scanner.close();
  }
}

async function allCoresPeer(images, options, placement) {
  const label = `all cores: Tesseract (${placement.cores} processes)`;
  const measured = await roundsFor(
    images,
    options,
    () =>
      inPool(images, placement.cores, (image) => peerRead(image.file, placement.allCpus, options.languages)),
    label,
    () => watchLoad(placement.cpuIds, () => exitedChildrenCpuSeconds() + ownCpuSeconds()),
  );
  return { ...measured, processes: placement.cores };
}

// -------------------------------------------------------------------- report

function summarise(images, runs, startup, allCores) {
  const perRun = runs.map((run) => {
    const r = seconds(run.rempart.map((x) => x.seconds));
    const p = run.peer && seconds(run.peer.map((x) => x.seconds));
    const others = Math.max(run.load.rempart.othersPercent, run.load.peer?.othersPercent ?? 0);
    return { rempart: r, peer: p, ratio: p ? r.median / p.median : undefined, othersPercent: others };
  });
  const mid = (pick) => median(perRun.map(pick).filter((v) => v !== undefined));
  const rempartMedian = mid((r) => r.rempart.median);
  const peerMedian = runs[0].peer ? mid((r) => r.peer.median) : undefined;
  const perImage = images.map((image, i) => {
    const r = median(runs.map((run) => run.rempart[i].seconds));
    const p = runs[0].peer ? median(runs.map((run) => run.peer[i].seconds)) : undefined;
    const { views, findings } = runs[0].rempart[i];
    return {
      name: image.name,
      format: image.format,
      rempartSeconds: r,
      peerSeconds: p,
      ratio: p ? r / p : undefined,
      views,
      findings,
      peerWords: runs[0].peer?.[i].words,
    };
  });
  const mean = (engine) =>
    sum(runs.flatMap((run) => run[engine].map((x) => x.seconds))) / (runs.length * images.length);
  const meanRempart = mean('rempart');
  return {
    perRun,
    oneCore: {
      rempart: { median: rempartMedian, p90: mid((r) => r.rempart.p90) },
      peer: runs[0].peer ? { median: peerMedian, p90: mid((r) => r.peer.p90) } : undefined,
      ratio: runs[0].peer ? mid((r) => r.ratio) : undefined,
      // The peer's OCR alone, without the start-up every `tesseract` process pays.
      ratioWithoutPeerStartup:
        runs[0].peer && startup.peer ? rempartMedian / (peerMedian - startup.peer.processSeconds) : undefined,
      imagesUnderGoal: perImage.filter((x) => x.rempartSeconds < GOAL_SECONDS).length,
      rempartImagesPerMinute: 60 / meanRempart,
      peerImagesPerMinute: runs[0].peer ? 60 / mean('peer') : undefined,
    },
    allCores: {
      rempart: allCores.rempart.imagesPerMinute,
      peer: allCores.peer?.imagesPerMinute,
      ratio: allCores.peer ? allCores.rempart.imagesPerMinute / allCores.peer.imagesPerMinute : undefined,
      rempartScaling: allCores.rempart.imagesPerMinute / (60 / meanRempart),
    },
    perImage,
  };
}

/** "0°, −2.9°, −2.9° ×1.6": the angle each view was read at, and its scale when not 1. */
function describeViews(views) {
  return views
    .map((v) => `${Number(v.angle.toFixed(1))}°${v.scale === 1 ? '' : ` ×${Number(v.scale.toFixed(2))}`}`)
    .join(', ');
}

/** "7 (2 metadata, 1 QR code)": how many findings, and those not read in the text. */
function describeFindings(findings) {
  const names = { qr_code: 'QR code', barcode: 'barcode', metadata: 'metadata' };
  const other = Object.entries(names)
    .map(([source, name]) => [name, findings.filter((f) => f.source === source).length])
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`);
  return other.length > 0 ? `${findings.length} (${other.join(', ')})` : String(findings.length);
}

function printReport({
  options,
  placement,
  images,
  runs,
  summary,
  startup,
  allCores,
  v,
  build,
  resultsFile,
}) {
  const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
  const s2 = fixed(2);
  const withPeer = Boolean(runs[0].peer);
  const photos = images.filter((i) => i.photo).length;
  const qr = images.filter((i) => i.screen === 'slide').length;
  const clean = images.filter((i) => !i.product).length;
  const oneWhere =
    placement.oneCpu === undefined
      ? 'not pinned (taskset is missing): the scanner, the peer and this process share the CPUs'
      : `on CPU ${placement.oneCpu}${placement.selfCpu === undefined ? '' : `, this process on CPU ${placement.selfCpu}`}`;
  const peerData = v.peer ? Object.values(v.peer.data).filter(Boolean)[0] : undefined;
  const lines = [
    '',
    `Leak check: seconds per ${WIDTH}×${HEIGHT} image, Rempart's whole check against Tesseract's OCR alone`,
    `  ${images.length} generated images (EN/FR/NL invitations and calendars, ${qr} with a QR code, ${photos} photos of screens, ${clean} clean), PNG and JPEG`,
    `  Rempart: LeakScanner (OCR ${options.languages.join('+')} in tesseract.js, QR codes and barcodes, metadata, redacted copy)`,
    `    tesseract.js ${v.tesseractJs ?? '?'} (WebAssembly, 4.0.0_best_int data), sharp ${v.sharp ?? '?'}`,
    withPeer
      ? `  peer: tesseract ${v.peer.tesseract ?? '?'} from Debian (data ${peerData ?? '?'}), -l ${options.languages.join('+')}, OMP_THREAD_LIMIT=1, TSV to stdout: OCR only, one process per image`
      : '  peer: skipped (Tesseract is not installed)',
    `  one core: ${oneWhere}; ${options.runs} run(s), Rempart and the peer interleaved; medians over the runs`,
    `  all cores: ${placement.cores} (Rempart ${placement.cores} OCR workers given the whole set at once; the peer ${placement.cores} processes at a time), whole rounds for at least ${options.seconds} s`,
    `  Node ${v.node}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
  ];
  if (build.stale.length > 0)
    lines.push(
      `  ! the build is older than ${build.stale.join(' and ')}: this measures the last build (npx tsc -b packages/cli)`,
    );
  const row = (name, pick, format, overall) => [
    name,
    ...summary.perRun.map((r) => format(pick(r))),
    format(overall),
  ];
  const rows = [
    ['seconds per image, one core', ...runs.map((_, i) => `run ${i + 1}`), 'median'],
    row('Rempart, whole check: median', (r) => r.rempart.median, s2, summary.oneCore.rempart.median),
    row('  p90', (r) => r.rempart.p90, s2, summary.oneCore.rempart.p90),
  ];
  if (withPeer) {
    rows.push(
      row('Tesseract CLI, OCR only (peer): median', (r) => r.peer.median, s2, summary.oneCore.peer.median),
      row('  p90', (r) => r.peer.p90, s2, summary.oneCore.peer.p90),
      row('Rempart / peer, seconds (medians)', (r) => r.ratio, s2, summary.oneCore.ratio),
    );
  }
  const busy = (percent) => `${fixed(0)(percent)}${percent > OTHER_LOAD_PERCENT ? '!' : ''}`;
  rows.push([
    `other programs on CPU ${placement.oneCpu ?? '?'} (%)`,
    ...summary.perRun.map((r) => busy(r.othersPercent)),
    '',
  ]);
  lines.push('', ...table(rows).map((l) => `  ${l}`));

  const other = [
    ['', 'Rempart', withPeer ? 'peer' : '', withPeer ? 'Rempart / peer' : ''],
    [
      'start-up, one core (s)',
      `${s2(startup.rempart.poolSeconds)} pool, first image ${s2(startup.rempart.firstImageSeconds)} (${s2(summary.perImage[0].rempartSeconds)} warm)`,
      withPeer ? `${s2(startup.peer.processSeconds)} per process` : '',
      '',
    ],
    [
      `images per minute, one core`,
      fixed(1)(summary.oneCore.rempartImagesPerMinute),
      withPeer ? fixed(1)(summary.oneCore.peerImagesPerMinute) : '',
      '',
    ],
    [
      `images per minute, ${placement.cores} cores`,
      `${fixed(1)(summary.allCores.rempart)} (${allCores.rempart.rounds.length} rounds)`,
      withPeer ? `${fixed(1)(summary.allCores.peer)} (${allCores.peer.rounds.length} rounds)` : '',
      withPeer ? `${s2(summary.allCores.ratio)}× the images` : '',
    ],
    [
      `  other programs on the ${placement.cores} CPUs (%)`,
      busy(allCores.rempart.load.othersPercent),
      withPeer ? busy(allCores.peer.load.othersPercent) : '',
      '',
    ],
  ];
  lines.push('', ...table(other).map((l) => `  ${l}`));
  const flagged = [
    ...summary.perRun.map((r) => r.othersPercent),
    allCores.rempart.load.othersPercent,
    allCores.peer?.load.othersPercent ?? 0,
  ].some((percent) => percent > OTHER_LOAD_PERCENT);
  if (flagged) {
    lines.push(
      `  ! other programs used more than ${OTHER_LOAD_PERCENT}% of the CPUs measured: the machine was not quiet, so`,
      '    those figures are slower than the engines are (run again when it is).',
    );
  }
  lines.push(
    `  Rempart's start-up: its pool of OCR workers loading the data once (${s2(allCores.rempart.startSeconds)} s for ${allCores.rempart.workers} workers), and a`,
    '  first image slower than the next ones.',
  );
  if (withPeer) {
    lines.push(
      "  The peer's start-up is a `tesseract` process reading a blank image, paid by every image since the",
      '  command line loads its language data each time (it is in the peer figures above).',
    );
  }
  if (withPeer && Number.isFinite(summary.oneCore.ratioWithoutPeerStartup)) {
    lines.push(
      `  Without that start-up, the peer reads an image in about ${s2(summary.oneCore.peer.median - startup.peer.processSeconds)} s: Rempart / peer ${s2(summary.oneCore.ratioWithoutPeerStartup)}.`,
    );
  }

  lines.push(
    '',
    'Per image, one core (medians over the runs); views: the OCR passes Rempart needed (angle, scale)',
  );
  const imageRows = [
    [
      'image',
      'views',
      'findings',
      'Rempart s',
      withPeer ? 'peer s' : '',
      withPeer ? 'ratio' : '',
      withPeer ? 'peer words' : '',
    ],
    ...summary.perImage.map((x) => [
      `${x.name}.${x.format === 'jpeg' ? 'jpg' : 'png'}`,
      `${x.views.length}: ${describeViews(x.views)}`,
      describeFindings(x.findings),
      s2(x.rempartSeconds),
      withPeer ? s2(x.peerSeconds) : '',
      withPeer ? s2(x.ratio) : '',
      withPeer ? String(x.peerWords) : '',
    ]),
  ];
  lines.push(...table(imageRows).map((l) => `  ${l}`));
  if (withPeer) {
    lines.push(
      '  peer words: words Tesseract read with a confidence of 60 or more (it reports no findings).',
    );
  }

  const rempartSamples = runs.flatMap((run) => run.rempart.map((x) => x.seconds));
  const peerSamples = withPeer ? runs.flatMap((run) => run.peer.map((x) => x.seconds)) : [];
  const all = [...rempartSamples, ...peerSamples].sort((a, b) => a - b);
  const span = { low: all[0], high: percentile(all, 99.5) };
  lines.push(
    '',
    `Seconds per image on one core, all runs (${rempartSamples.length} scans each):`,
    '  Rempart, whole check:',
  );
  lines.push(...histogram(rempartSamples, { unit: 's', span, buckets: 10, width: 36 }));
  if (withPeer) {
    lines.push('  Tesseract CLI, OCR only:');
    lines.push(...histogram(peerSamples, { unit: 's', span, buckets: 10, width: 36 }));
  }
  const met = summary.oneCore.rempart.median < GOAL_SECONDS;
  lines.push(
    '',
    `Goal, under ${GOAL_SECONDS} s per 1080p image on one core: ${met ? 'met' : 'NOT met'} ` +
      `(median ${s2(summary.oneCore.rempart.median)} s; ${summary.oneCore.imagesUnderGoal} of ${images.length} images under ${GOAL_SECONDS} s).`,
    `Results: ${relative(process.cwd(), resultsFile)} (the benchmark took ${Math.round(performance.now() / 1000)} s)`,
  );
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const build = checkBuild(['packages/server/dist/index.js'], ['core', 'server']);
  if (build.exitCode !== undefined) return build.exitCode;
  releaseOnExit();
  const startedAt = new Date();
  const withPeer = ensureTesseract();
  const v = versions(withPeer);

  const dir = scratchDir('rempart-bench-leakcheck-');
  const images = await generateImages(dir);

  // Counted before this process moves to one CPU: the count follows this process's affinity.
  const cores = availableParallelism();
  const cpuList = allowedCpus();
  const placement = {
    cores,
    oneCpu: cpuList[0],
    // Children inherit this process's CPU: on all cores they are given every allowed CPU again.
    allCpus: cpuList.length > 0 ? cpuList.join(',') : undefined,
    selfCpu: cpuList.length >= 2 && pinSelf(cpuList[1]) ? cpuList[1] : undefined,
    cpuIds: cpuList,
  };
  const oneCpuIds = placement.oneCpu === undefined ? [] : [placement.oneCpu];

  const { scanner, startup: rempartStartup } = await startOneCore(images, options, placement);
  const startup = { rempart: rempartStartup };
  const runs = [];
  try {
    if (withPeer) {
      progress('one core: the peer’s start-up (a blank image)');
      await peerRead(images[0].file, placement.oneCpu, options.languages); // the first read of the set, as Rempart's warm-up
      startup.peer = { processSeconds: await peerStartup(dir, placement.oneCpu, options.languages) };
    }
    for (let i = 0; i < options.runs; i++) {
      const label = `run ${i + 1}/${options.runs}`;
      const rempart = await oneCoreRun(
        images,
        (image) => scanner.scan(image),
        `${label} Rempart`,
        () => watchLoad(oneCpuIds, () => cpuSeconds(scanner.pid)),
      );
      const peer = withPeer
        ? await oneCoreRun(
            images,
            (image) => peerRead(image.file, placement.oneCpu, options.languages),
            `${label} Tesseract`,
            () => watchLoad(oneCpuIds, () => exitedChildrenCpuSeconds()),
          )
        : undefined;
      runs.push({
        rempart: rempart.results,
        peer: peer?.results,
        load: { rempart: rempart.load, peer: peer?.load },
      });
      const r = median(rempart.results.map((x) => x.seconds));
      const p = peer && median(peer.results.map((x) => x.seconds));
      progress(
        `${label}: Rempart ${r.toFixed(2)} s per image${p ? `, Tesseract ${p.toFixed(2)} s` : ''}`,
        true,
      );
    }
  } finally {
    await scanner.close();
  }

  const allCores = { rempart: await allCoresRempart(images, options, placement) };
  progress(`all cores: Rempart ${allCores.rempart.imagesPerMinute.toFixed(1)} images/min`, true);
  if (withPeer) {
    allCores.peer = await allCoresPeer(images, options, placement);
    progress(`all cores: Tesseract ${allCores.peer.imagesPerMinute.toFixed(1)} images/min`, true);
  }

  const summary = summarise(images, runs, startup, allCores);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `${RESULTS_DIR}leakcheck-${stamp}.json`;
  const record = {
    benchmark: 'leakcheck',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    build: { stale: build.stale },
    machine: { cpu: cpus()[0]?.model.trim(), allowedCpus: cpuList, ...v },
    options: {
      ...options,
      seed: SEED,
      peerLanguages: options.languages.join('+'),
      goalSeconds: GOAL_SECONDS,
    },
    placement,
    images: images.map(({ file: _file, ...image }) => image),
    startup,
    median: { oneCore: summary.oneCore, allCores: summary.allCores },
    perImage: summary.perImage,
    runs: runs.map((run, i) => ({
      ...summary.perRun[i],
      rempartSeconds: run.rempart.map((x) => x.seconds),
      peerSeconds: run.peer?.map((x) => x.seconds),
      load: run.load,
    })),
    allCores,
  };
  // Three decimals are more than these measurements can tell apart.
  const rounded = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport({ options, placement, images, runs, summary, startup, allCores, v, build, resultsFile });
  return 0;
}

process.exitCode = await runBenchmark(main, USAGE);
