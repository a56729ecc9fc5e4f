/**
 * A generated test set for the leak check: screenshots of meeting invitations and calendar entries
 * rendered from SVG (Zoom, Teams, Webex, Jitsi, Google Meet and Rempart, in English, French and
 * Dutch, worded as those products print them), "photos" of such screens (keystone, rotation, blur,
 * noise, moiré, glare, low contrast, JPEG), the 2020 incident (a meeting ID and a PIN of which only
 * five digits show), and clean images: ordinary documents, mails and calendars full of dates,
 * times, rooms and prices, and nothing a leak check should report.
 *
 * Every value is drawn from a seeded generator: the same seed gives the same cases, byte for byte.
 */
import QRCode from 'qrcode';
import sharp, { type Sharp } from 'sharp';

export type LeakImageLanguage = 'en' | 'fr' | 'nl';
export type MeetingProduct = 'rempart' | 'zoom' | 'teams' | 'webex' | 'jitsi' | 'meet';
export const meetingProducts: readonly MeetingProduct[] = [
  'rempart',
  'zoom',
  'teams',
  'webex',
  'jitsi',
  'meet',
];

/** How the image was made: a screenshot, or a photo of a screen and the defect that dominates it. */
export type LeakImageVariant =
  | 'screenshot'
  | 'photo-noise'
  | 'photo-rotated'
  | 'photo-perspective'
  | 'photo-low-contrast'
  | 'photo-moire-glare'
  | 'photo-rescaled'
  | 'photo-rotated-90';
export const photoVariants: readonly LeakImageVariant[] = [
  'photo-noise',
  'photo-rotated',
  'photo-perspective',
  'photo-low-contrast',
  'photo-moire-glare',
  'photo-rescaled',
];

export type ExpectedCredentialKind =
  'rempart_meeting_link' | 'meeting_link' | 'meeting_id' | 'passcode' | 'dial_in';

export interface ExpectedCredential {
  kind: ExpectedCredentialKind;
  /**
   * What must be found: the digits of a meeting ID, code or PIN (of a partly hidden PIN, the
   * digits that show), a mixed passcode as printed, the digits of a dial-in number and of its
   * PIN as `number|pin`, the id of a Rempart link, or a meeting link without its scheme (for Zoom,
   * `zoom.us/j/<id>`: the host part says nothing).
   */
  value: string;
}

export interface LeakImageCase {
  /** Unique and stable for a seed, e.g. `fr-zoom-calendar-photo-rotated`. */
  name: string;
  language: LeakImageLanguage;
  variant: LeakImageVariant;
  /** The meeting product shown, or null for a clean image. */
  product: MeetingProduct | null;
  /** What the screen shows: a mail, a calendar entry, a meeting panel, a document … */
  layout: string;
  format: 'png' | 'jpeg';
  image: Buffer;
  /** The meeting credentials the image shows; empty for a clean image. */
  expected: ExpectedCredential[];
}

// ---------------------------------------------------------------------------------------------
// A seeded generator (mulberry32): small, fast, and the same on every platform.

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** `n` random digits; the first is never 0 unless `leadingZero`. */
  digits(n: number, leadingZero = false): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(i === 0 && !leadingZero ? this.int(1, 9) : this.int(0, 9));
    return s;
  }

  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }

  /** A standard normal deviate (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

// ---------------------------------------------------------------------------------------------
// Words and values.

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * Letters and digits of mixed passcodes, without those a reader cannot tell apart in a photo
 * (0/O/Q/D, 1/l/I/j, 2/Z, 5/S, 6/G, 8/B, 9/g/q) nor letters whose capital has the same shape
 * (c, k, o, p, s, u, v, w, x, z): the test measures finding a code, not guessing a glyph.
 */
const PASSCODE_ALPHABET = 'abdefhmnrtEFHLMNRT234567';
/** Letters and digits of a link's opaque part (a Zoom pwd, a Webex MTID) or any random token. */
const TOKEN_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const HEX = '0123456789abcdef';

interface Person {
  name: string;
  email: string;
}

interface LanguageWords {
  weekdays: readonly string[];
  months: readonly string[];
  people: readonly string[];
  domains: readonly string[];
  titles: readonly string[];
  /** Names shown instead of addresses in clean mails. */
  groups: readonly string[];
  mail: { app: string; folders: readonly string[]; subject: string; from: string; to: string; date: string };
  calendar: {
    app: string;
    location: string;
    organiser: string;
    attendees: (accepted: number, tentative: number) => string;
    buttons: readonly string[];
    weekdayInitials: readonly string[];
  };
}

const words: Record<LeakImageLanguage, LanguageWords> = {
  en: {
    weekdays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    months: [
      'January',
      'February',
      'March',
      'April',
      'May',
      'June',
      'July',
      'August',
      'September',
      'October',
      'November',
      'December',
    ],
    people: [
      'Sarah Whitfield',
      'James Holloway',
      'Emma Carter',
      'Daniel Brooks',
      'Olivia Grant',
      'Thomas Reed',
    ],
    domains: ['defence.example.eu', 'council.example.eu', 'cabinet.example.gov.uk'],
    titles: [
      'Crisis cell - weekly update',
      'Defence ministers - informal videoconference',
      'Budget review Q2',
      'Cyber incident coordination',
      'Steering committee',
      'Border security working group',
    ],
    groups: ['Crisis cell members', 'Steering committee', 'Directorate staff', 'Working group B'],
    mail: {
      app: 'Mail',
      folders: ['Inbox', 'Drafts', 'Sent Items', 'Archive', 'Deleted Items'],
      subject: 'Subject',
      from: 'From',
      to: 'To',
      date: 'Date',
    },
    calendar: {
      app: 'Calendar',
      location: 'Location',
      organiser: 'Organiser',
      attendees: (a, t) => `Attendees: ${a} accepted, ${t} tentative`,
      buttons: ['Accept', 'Tentative', 'Decline'],
      weekdayInitials: ['M', 'T', 'W', 'T', 'F', 'S', 'S'],
    },
  },
  fr: {
    weekdays: ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'],
    months: [
      'janvier',
      'février',
      'mars',
      'avril',
      'mai',
      'juin',
      'juillet',
      'août',
      'septembre',
      'octobre',
      'novembre',
      'décembre',
    ],
    people: [
      'Claire Dubois',
      'Julien Lefèvre',
      'Camille Moreau',
      'Nicolas Garnier',
      'Sophie Laurent',
      'Hugo Mercier',
    ],
    domains: ['defense.example.fr', 'interieur.example.fr', 'diplomatie.example.fr'],
    titles: [
      'Cellule de crise - point hebdomadaire',
      'Réunion informelle des ministres de la défense',
      'Revue budgétaire T2',
      'Coordination incident cyber',
      'Comité de pilotage',
      'Groupe de travail sécurité des frontières',
    ],
    groups: [
      'Membres de la cellule de crise',
      'Comité de pilotage',
      'Agents de la direction',
      'Groupe de travail B',
    ],
    mail: {
      app: 'Courrier',
      folders: ['Boîte de réception', 'Brouillons', 'Éléments envoyés', 'Archives', 'Éléments supprimés'],
      subject: 'Objet',
      from: 'De',
      to: 'À',
      date: 'Date',
    },
    calendar: {
      app: 'Calendrier',
      location: 'Lieu',
      organiser: 'Organisateur',
      attendees: (a, t) => `Participants : ${a} acceptés, ${t} provisoires`,
      buttons: ['Accepter', 'Provisoire', 'Refuser'],
      weekdayInitials: ['L', 'M', 'M', 'J', 'V', 'S', 'D'],
    },
  },
  nl: {
    weekdays: ['zondag', 'maandag', 'dinsdag', 'woensdag', 'donderdag', 'vrijdag', 'zaterdag'],
    months: [
      'januari',
      'februari',
      'maart',
      'april',
      'mei',
      'juni',
      'juli',
      'augustus',
      'september',
      'oktober',
      'november',
      'december',
    ],
    people: [
      'Anke Peeters',
      'Joris Van den Berg',
      'Els Janssens',
      'Pieter de Vries',
      'Lotte Maes',
      'Bram Willems',
    ],
    domains: ['defensie.example.be', 'binnenzaken.example.nl', 'vlaanderen.example.be'],
    titles: [
      'Crisiscel - wekelijkse update',
      'Informele videoconferentie van de defensieministers',
      'Budgetbespreking K2',
      'Coördinatie cyberincident',
      'Stuurgroep',
      'Werkgroep grensbeveiliging',
    ],
    groups: ['Leden van de crisiscel', 'Stuurgroep', 'Medewerkers directie', 'Werkgroep B'],
    mail: {
      app: 'Mail',
      folders: ['Postvak IN', 'Concepten', 'Verzonden items', 'Archief', 'Verwijderde items'],
      subject: 'Onderwerp',
      from: 'Van',
      to: 'Aan',
      date: 'Datum',
    },
    calendar: {
      app: 'Agenda',
      location: 'Locatie',
      organiser: 'Organisator',
      attendees: (a, t) => `Deelnemers: ${a} geaccepteerd, ${t} voorlopig`,
      buttons: ['Accepteren', 'Voorlopig', 'Weigeren'],
      weekdayInitials: ['M', 'D', 'W', 'D', 'V', 'Z', 'Z'],
    },
  },
};

function person(random: SeededRandom, language: LeakImageLanguage): Person {
  const w = words[language];
  const name = random.pick(w.people);
  const local = name.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/ /g, '.');
  return { name, email: `${local}@${random.pick(w.domains)}` };
}

interface When {
  year: number;
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
  minutes: number;
}

function when(random: SeededRandom): When {
  const year = random.int(2025, 2027);
  const month = random.int(0, 11);
  const day = random.int(1, 28);
  const weekday = new Date(Date.UTC(year, month, day)).getUTCDay();
  return {
    year,
    month,
    day,
    weekday,
    hour: random.int(8, 17),
    minute: random.pick([0, 15, 30, 45]),
    minutes: random.pick([30, 45, 60, 90]),
  };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const clock = (h: number, m: number): string => `${pad2(h)}:${pad2(m)}`;

function endOf(w: When): string {
  const end = w.hour * 60 + w.minute + w.minutes;
  return clock(Math.floor(end / 60) % 24, end % 60);
}

function longDate(w: When, language: LeakImageLanguage): string {
  const { weekdays, months } = words[language];
  const day = weekdays[w.weekday] ?? '';
  const month = months[w.month] ?? '';
  return language === 'en' ? `${day}, ${w.day} ${month} ${w.year}` : `${day} ${w.day} ${month} ${w.year}`;
}

const timeRange = (w: When): string => `${clock(w.hour, w.minute)} - ${endOf(w)}`;

/** A phone number as the country prints it, with the country and its capital in the language. */
function phoneNumber(
  random: SeededRandom,
  language: LeakImageLanguage,
): { number: string; country: string; city: string } {
  const country = random.pick(
    language === 'en'
      ? (['be', 'uk'] as const)
      : language === 'fr'
        ? (['fr', 'be'] as const)
        : (['nl', 'be'] as const),
  );
  const d = (n: number): string => random.digits(n);
  switch (country) {
    case 'be':
      return {
        number: `+32 2 ${d(3)} ${d(2)} ${d(2)}`,
        country: { en: 'Belgium', fr: 'Belgique', nl: 'België' }[language],
        city: { en: 'Brussels', fr: 'Bruxelles', nl: 'Brussel' }[language],
      };
    case 'uk':
      return { number: `+44 20 ${d(4)} ${d(4)}`, country: 'United Kingdom', city: 'London' };
    case 'fr':
      return { number: `+33 1 ${d(2)} ${d(2)} ${d(2)} ${d(2)}`, country: 'France', city: 'Paris' };
    case 'nl':
      return { number: `+31 20 ${d(3)} ${d(4)}`, country: 'Nederland', city: 'Amsterdam' };
  }
}

const digitsOf = (s: string): string => s.replace(/\D/g, '');
const withoutScheme = (url: string): string => url.replace(/^https?:\/\//, '');

/**
 * What a one-tap dial string gives away: the number and the first code after it. (What follows,
 * `#,,,,*passcode#`, is expected as a passcode of its own; OCR often reads a `#` as a 4.)
 */
/** A dial-in as expected: the number's digits and its PIN's, as `number|pin`. */
const dialValue = (number: string, code: string): string => `${digitsOf(number)}|${digitsOf(code)}`;

// ---------------------------------------------------------------------------------------------
// Text content: paragraphs of styled runs.

interface Run {
  text: string;
  bold?: boolean;
  /** A link: coloured, and underlined if the mail client underlines links and `plain` is not set. */
  link?: boolean;
  plain?: boolean;
}

/** A line of text, an empty line, or a horizontal rule. */
type Para = { runs: Run[]; scale?: number } | 'blank' | 'rule';

const line = (...runs: (Run | string)[]): Para => ({
  runs: runs.map((r) => (typeof r === 'string' ? { text: r } : r)),
});
const big = (text: string, scale = 1.3): Para => ({ runs: [{ text, bold: true }], scale });
const bold = (text: string): Run => ({ text, bold: true });
const link = (text: string): Run => ({ text, link: true });
/**
 * A Rempart link as Rempart prints it: never underlined, since an underline hides the `_` and
 * `-` of the id.
 */
const plainLink = (text: string): Run => ({ text, link: true, plain: true });

interface Invitation {
  product: MeetingProduct;
  title: string;
  organiser: Person;
  when: When;
  /** What a calendar shows as the location. */
  location: string;
  body: Para[];
  expected: ExpectedCredential[];
  /** Text of a QR code printed next to the invitation. */
  qr?: { text: string; caption: string };
}

function zoom(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const id = `${random.pick(['8', '9'])}${random.digits(2, true)} ${random.digits(4, true)} ${random.digits(4, true)}`;
  const passcode = random.digits(6);
  const url = `https://us0${random.int(2, 6)}web.zoom.us/j/${digitsOf(id)}?pwd=${random.chars(TOKEN_ALPHABET, 32)}`;
  const tap = phoneNumber(random, language);
  const other = phoneNumber(random, language);
  const oneTap = `${tap.number},,${digitsOf(id)}#,,,,*${passcode}#`;
  const { organiser, title, when: w } = base;
  const t = {
    en: {
      invite: `${organiser.name} is inviting you to a scheduled Zoom meeting.`,
      topic: 'Topic: ',
      time: 'Time: ',
      join: 'Join Zoom Meeting',
      id: 'Meeting ID: ',
      pass: 'Passcode: ',
      tap: 'One tap mobile',
      dial: 'Dial by your location',
    },
    fr: {
      invite: `${organiser.name} vous invite à une réunion Zoom planifiée.`,
      topic: 'Sujet : ',
      time: 'Heure : ',
      join: 'Rejoindre la réunion Zoom',
      id: 'ID de réunion : ',
      pass: 'Code secret : ',
      tap: 'Appel abrégé mobile',
      dial: 'Composez un numéro en fonction de votre emplacement',
    },
    nl: {
      invite: `${organiser.name} nodigt u uit voor een geplande Zoom-vergadering.`,
      topic: 'Onderwerp: ',
      time: 'Tijd: ',
      join: 'Deelnemen aan Zoom-vergadering',
      id: 'Vergadering-ID: ',
      pass: 'Toegangscode: ',
      tap: 'Snel mobiel inbellen',
      dial: 'Inbellen volgens uw locatie',
    },
  }[language];
  return {
    ...base,
    product: 'zoom',
    location: withoutScheme(url).slice(0, 40) + '…',
    body: [
      line(t.invite),
      'blank',
      line(t.topic + title),
      line(`${t.time}${longDate(w, language)} ${clock(w.hour, w.minute)}`),
      'blank',
      line(t.join),
      line(link(url)),
      'blank',
      line(t.id + id),
      line(t.pass + passcode),
      'blank',
      line('---'),
      'blank',
      line(t.tap),
      line(`${oneTap} ${tap.country}`),
      'blank',
      line(t.dial),
      line(`• ${other.number} ${other.country}`),
    ],
    expected: [
      // The host part (us02web…) says nothing; the meeting is the path.
      { kind: 'meeting_link', value: `zoom.us/j/${digitsOf(id)}` },
      { kind: 'meeting_id', value: digitsOf(id) },
      { kind: 'passcode', value: passcode },
      { kind: 'dial_in', value: dialValue(tap.number, id) },
    ],
  };
}

function teams(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const id = `${random.digits(3)} ${random.digits(3, true)} ${random.digits(3, true)} ${random.digits(3, true)}`;
  let passcode = random.chars(PASSCODE_ALPHABET, 6);
  // A Teams passcode mixes letters and digits.
  if (!/\d/.test(passcode)) passcode = passcode.slice(0, 5) + String(random.int(2, 9));
  if (!/[a-zA-Z]/.test(passcode)) passcode = 'k' + passcode.slice(1);
  const conference = random.digits(9);
  const tap = phoneNumber(random, language);
  const oneTap = `${tap.number},,${conference}#`;
  const conf = `${conference.slice(0, 3)} ${conference.slice(3, 6)} ${conference.slice(6)}#`;
  const t = {
    en: {
      head: 'Microsoft Teams meeting',
      device: 'Join on your computer, mobile app or room device',
      click: 'Click here to join the meeting',
      id: 'Meeting ID: ',
      pass: 'Passcode: ',
      download: 'Download Teams | Join on the web',
      call: 'Or call in (audio only)',
      conf: 'Phone Conference ID: ',
      local: 'Find a local number | Reset PIN',
      location: 'Microsoft Teams Meeting',
    },
    fr: {
      head: 'Réunion Microsoft Teams',
      device: 'Rejoindre sur votre ordinateur, application mobile ou appareil de salle',
      click: 'Cliquez ici pour rejoindre la réunion',
      id: 'ID de la réunion : ',
      pass: 'Code secret : ',
      download: 'Télécharger Teams | Rejoindre sur le web',
      call: 'Ou appelez (audio uniquement)',
      conf: 'ID de conférence téléphonique : ',
      local: 'Trouver un numéro local | Réinitialiser le code confidentiel',
      location: 'Réunion Microsoft Teams',
    },
    nl: {
      head: 'Microsoft Teams-vergadering',
      device: 'Deelnemen op uw computer, mobiele app of ruimteapparaat',
      click: 'Klik hier om deel te nemen aan de vergadering',
      id: 'Vergadering-ID: ',
      pass: 'Toegangscode: ',
      download: 'Teams downloaden | Deelnemen op het web',
      call: 'Of bel in (alleen audio)',
      conf: 'Telefonische vergadering-ID: ',
      local: 'Een lokaal nummer zoeken | Pincode opnieuw instellen',
      location: 'Microsoft Teams-vergadering',
    },
  }[language];
  return {
    ...base,
    product: 'teams',
    location: t.location,
    body: [
      line('_'.repeat(64)),
      big(t.head, 1.5),
      line(t.device),
      line(link(t.click)),
      line(t.id, bold(id)),
      line(t.pass, bold(passcode)),
      'blank',
      line(t.download),
      'blank',
      big(t.call, 1.1),
      line(`${oneTap}   ${tap.country}, ${tap.city}`),
      line(t.conf + conf),
      line(t.local),
      line('_'.repeat(64)),
    ],
    expected: [
      { kind: 'meeting_id', value: digitsOf(id) },
      { kind: 'passcode', value: passcode },
      { kind: 'dial_in', value: dialValue(tap.number, conference) },
    ],
  };
}

function webex(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const site = random.pick(['defence-eu', 'minint', 'bosa', 'coreper', 'govnl']);
  const url = `https://${site}.webex.com/${site}/j.php?MTID=m${random.chars(HEX, 32)}`;
  const number = `${random.digits(4)} ${random.digits(3, true)} ${random.digits(4, true)}`;
  const password = random.chars(PASSCODE_ALPHABET, 4) + random.digits(2) + random.chars(PASSCODE_ALPHABET, 5);
  const numeric = random.digits(8);
  const tap = phoneNumber(random, language);
  const dash = tap.number.replace(/ /g, '-');
  const oneTap = `${dash},,${digitsOf(number)}#,,,,*${numeric}##`;
  const w = base.when;
  const t = {
    en: {
      invite: `${base.organiser.name} invites you to join this Webex meeting.`,
      link: 'Meeting link:',
      number: 'Meeting number: ',
      password: 'Meeting password: ',
      phones: `(${numeric} from phones and video systems)`,
      when: `${longDate(w, language)} ${clock(w.hour, w.minute)} | ${w.minutes} minutes | (UTC+01:00) Brussels`,
      video: 'Join by video system',
      dialVideo: 'Dial ',
      phone: 'Join by phone',
      toll: 'Toll',
      access: 'Access code: ',
      tap: 'Tap to join from a mobile device (attendees only)',
    },
    fr: {
      invite: `${base.organiser.name} vous invite à rejoindre cette réunion Webex.`,
      link: 'Lien de la réunion :',
      number: 'Numéro de la réunion : ',
      password: 'Mot de passe : ',
      phones: `(${numeric} depuis les téléphones et les systèmes vidéo)`,
      when: `${longDate(w, language)} ${clock(w.hour, w.minute)} | ${w.minutes} minutes | (UTC+01:00) Bruxelles`,
      video: 'Rejoindre par un système vidéo',
      dialVideo: 'Composez ',
      phone: 'Rejoindre par téléphone',
      toll: '(payant)',
      access: "Code d'accès : ",
      tap: 'Appuyez pour rejoindre depuis un appareil mobile (participants uniquement)',
    },
    nl: {
      invite: `${base.organiser.name} nodigt u uit voor deze Webex-vergadering.`,
      link: 'Vergaderlink:',
      number: 'Vergadernummer: ',
      password: 'Wachtwoord: ',
      phones: `(${numeric} vanaf telefoons en videosystemen)`,
      when: `${longDate(w, language)} ${clock(w.hour, w.minute)} | ${w.minutes} minuten | (UTC+01:00) Brussel`,
      video: 'Deelnemen via videosysteem',
      dialVideo: 'Bel ',
      phone: 'Deelnemen via telefoon',
      toll: '(betaald)',
      access: 'Toegangscode: ',
      tap: 'Tik om deel te nemen via een mobiel apparaat (alleen deelnemers)',
    },
  }[language];
  return {
    ...base,
    product: 'webex',
    location: `https://${site}.webex.com/${site}/j.php…`,
    body: [
      line(t.invite),
      'blank',
      line(bold(t.link)),
      line(link(url)),
      'blank',
      line(t.number + number),
      line(`${t.password}${password} ${t.phones}`),
      line(t.when),
      'blank',
      line(bold(t.phone)),
      line(`${dash} ${tap.country} ${t.toll}`),
      line(t.access + number),
      'blank',
      line(t.tap),
      line(`${oneTap} ${tap.country} ${t.toll}`),
      'blank',
      line(bold(t.video)),
      line(`${t.dialVideo}${digitsOf(number)}@${site}.webex.com`),
    ],
    expected: [
      { kind: 'meeting_link', value: withoutScheme(url) },
      { kind: 'meeting_id', value: digitsOf(number) },
      { kind: 'passcode', value: password },
      { kind: 'dial_in', value: dialValue(tap.number, number) },
    ],
  };
}

const roomWords = [
  'Crisis',
  'Cell',
  'Weekly',
  'Budget',
  'Review',
  'Cyber',
  'Steering',
  'Border',
  'Council',
  'Sync',
];

function jitsi(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const room = random.pick(roomWords) + random.pick(roomWords) + random.pick(roomWords) + random.digits(3);
  const url = `https://meet.jit.si/${room}`;
  const pin = `${random.digits(4)} ${random.digits(4, true)} ${random.digits(2, true)}#`;
  const dial = phoneNumber(random, language);
  const t = {
    en: {
      click: 'Click the following link to join the meeting:',
      phone: 'Just want to dial in on your phone?',
      dial: 'Dial-in: ',
      pin: 'PIN: ',
      numbers: 'Click this link to see the dial in phone numbers for this meeting',
    },
    fr: {
      click: 'Cliquez sur le lien suivant pour rejoindre la réunion :',
      phone: 'Vous voulez simplement appeler depuis votre téléphone ?',
      dial: "Numéro d'appel : ",
      pin: 'Code PIN : ',
      numbers: "Cliquez sur ce lien pour voir les numéros d'appel de cette réunion",
    },
    nl: {
      click: 'Klik op de volgende link om deel te nemen aan de vergadering:',
      phone: 'Wilt u alleen inbellen met uw telefoon?',
      dial: 'Inbellen: ',
      pin: 'Pincode: ',
      numbers: 'Klik op deze link om de inbelnummers voor deze vergadering te zien',
    },
  }[language];
  return {
    ...base,
    product: 'jitsi',
    location: url,
    body: [
      line(t.click),
      line(link(url)),
      'blank',
      line('====='),
      'blank',
      line(t.phone),
      'blank',
      line(`${t.dial}${dial.number} (${dial.country})`),
      line(t.pin + pin),
      'blank',
      line(t.numbers),
      line(link(`https://meet.jit.si/static/dialInInfo.html?room=${room}`)),
    ],
    expected: [
      { kind: 'meeting_link', value: withoutScheme(url) },
      { kind: 'passcode', value: digitsOf(pin) },
    ],
  };
}

function googleMeet(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const lower = 'abcdefghijkmnopqrstuvwxyz';
  const code = `${random.chars(lower, 3)}-${random.chars(lower, 4)}-${random.chars(lower, 3)}`;
  const url = `https://meet.google.com/${code}`;
  const pin = `${random.digits(3)} ${random.digits(3, true)} ${random.digits(3, true)}#`;
  const dial = phoneNumber(random, language);
  const prefix = dial.number.startsWith('+32') ? '(BE)' : dial.number.startsWith('+33') ? '(FR)' : '(GB)';
  const t = {
    en: { join: 'Join with Google Meet', phone: 'Join by phone', pin: 'PIN: ', more: 'More phone numbers' },
    fr: {
      join: 'Participer avec Google Meet',
      phone: 'Rejoindre par téléphone',
      pin: 'Code : ',
      more: 'Autres numéros de téléphone',
    },
    nl: {
      join: 'Deelnemen met Google Meet',
      phone: 'Deelnemen via telefoon',
      pin: 'Pincode: ',
      more: 'Meer telefoonnummers',
    },
  }[language];
  const country = dial.number.startsWith('+31') ? '(NL)' : prefix;
  return {
    ...base,
    product: 'meet',
    location: withoutScheme(url),
    body: [
      line(bold(t.join)),
      line(link(withoutScheme(url))),
      'blank',
      line(bold(t.phone)),
      line(`${country} ${dial.number} ${t.pin}${pin}`),
      'blank',
      line(link(t.more)),
    ],
    expected: [
      { kind: 'meeting_link', value: withoutScheme(url) },
      { kind: 'passcode', value: digitsOf(pin) },
    ],
  };
}

function rempart(random: SeededRandom, language: LeakImageLanguage, base: InvitationBase): Invitation {
  const host = random.pick([
    'rempart.defence.example.eu',
    'visio.interieur.example.fr',
    'rempart.bosa.example.be',
  ]);
  const id = random.chars(BASE64URL, 22);
  const url = `https://${host}/m/${id}`;
  const t = {
    en: {
      invite: `${base.organiser.name} invites you to a Rempart meeting.`,
      join: 'Join: ',
      sign: 'Sign in with your institution account; the host admits you from the lobby.',
      share: 'Please do not forward this invitation.',
      caption: 'Scan to join',
    },
    fr: {
      invite: `${base.organiser.name} vous invite à une réunion Rempart.`,
      join: 'Rejoindre : ',
      sign: "Connectez-vous avec le compte de l'institution ; l'organisateur vous admet depuis la salle d'attente.",
      share: 'Merci de ne pas transférer cette invitation.',
      caption: 'Scanner pour rejoindre',
    },
    nl: {
      invite: `${base.organiser.name} nodigt u uit voor een Rempart-vergadering.`,
      join: 'Deelnemen: ',
      sign: 'Meld u aan met uw account van de instelling; de organisator laat u toe vanuit de wachtruimte.',
      share: 'Stuur deze uitnodiging niet door.',
      caption: 'Scan om deel te nemen',
    },
  }[language];
  return {
    ...base,
    product: 'rempart',
    location: url,
    body: [line(t.invite), 'blank', line(t.join, plainLink(url)), 'blank', line(t.sign), line(t.share)],
    expected: [{ kind: 'rempart_meeting_link', value: id }],
    qr: { text: url, caption: t.caption },
  };
}

interface InvitationBase {
  title: string;
  organiser: Person;
  when: When;
}

const invitationMakers: Record<
  MeetingProduct,
  (random: SeededRandom, language: LeakImageLanguage, base: InvitationBase) => Invitation
> = { rempart, zoom, teams, webex, jitsi, meet: googleMeet };

function invitation(random: SeededRandom, language: LeakImageLanguage, product: MeetingProduct): Invitation {
  const base = {
    title: random.pick(words[language].titles),
    organiser: person(random, language),
    when: when(random),
  };
  return invitationMakers[product](random, language, base);
}

// ---------------------------------------------------------------------------------------------
// SVG drawing.

interface FontFace {
  family: string;
  /** The advance of a digit, in em (digits are tabular in these fonts). */
  digit: number;
  /** A generous average advance of text, in em, to size the canvas. */
  average: number;
}

const fonts = {
  sans: { family: 'DejaVu Sans', digit: 0.636, average: 0.6 },
  serif: { family: 'DejaVu Serif', digit: 0.636, average: 0.62 },
  mono: { family: 'DejaVu Sans Mono', digit: 0.602, average: 0.602 },
  liberationSans: { family: 'Liberation Sans', digit: 0.556, average: 0.53 },
  liberationSerif: { family: 'Liberation Serif', digit: 0.5, average: 0.5 },
  liberationMono: { family: 'Liberation Mono', digit: 0.6, average: 0.6 },
} satisfies Record<string, FontFace>;

const bodyFonts: readonly FontFace[] = [
  fonts.sans,
  fonts.liberationSans,
  fonts.liberationSerif,
  fonts.sans,
  fonts.mono,
  fonts.serif,
  fonts.liberationSans,
  fonts.liberationMono,
];
const uiFonts: readonly FontFace[] = [fonts.sans, fonts.liberationSans];

interface Theme {
  window: string;
  bar: string;
  pane: string;
  sidebar: string;
  text: string;
  muted: string;
  link: string;
  rule: string;
  accent: string;
}

const lightTheme: Theme = {
  window: '#ffffff',
  bar: '#f1f1f3',
  pane: '#ffffff',
  sidebar: '#f6f7f9',
  text: '#1f1f1f',
  muted: '#5f6368',
  link: '#0b57d0',
  rule: '#d5d7db',
  accent: '#2b579a',
};

const darkTheme: Theme = {
  window: '#1e1f22',
  bar: '#2b2d31',
  pane: '#1e1f22',
  sidebar: '#26282c',
  text: '#e8e8e8',
  muted: '#a9adb3',
  link: '#8ab4f8',
  rule: '#45474c',
  accent: '#7aa7e8',
};

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

class Svg {
  private readonly parts: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  rect(x: number, y: number, width: number, height: number, fill: string, extra = ''): this {
    this.parts.push(`<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="${fill}" ${extra}/>`);
    return this;
  }

  circle(cx: number, cy: number, r: number, fill: string): this {
    this.parts.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`);
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): this {
    this.parts.push(
      `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}"/>`,
    );
    return this;
  }

  text(
    x: number,
    y: number,
    runs: readonly Run[] | string,
    style: {
      font: FontFace;
      size: number;
      color: string;
      link?: string;
      underline?: boolean;
      bold?: boolean;
      anchor?: string;
    },
  ): this {
    const list = typeof runs === 'string' ? [{ text: runs }] : runs;
    const spans = list
      .map((r) => {
        const attrs = [
          r.bold ? 'font-weight="bold"' : '',
          r.link ? `fill="${style.link ?? style.color}"` : '',
          r.link && !r.plain && style.underline ? 'text-decoration="underline"' : '',
        ].join(' ');
        return `<tspan ${attrs}>${escapeXml(r.text)}</tspan>`;
      })
      .join('');
    this.parts.push(
      `<text x="${x}" y="${y}" font-family="${style.font.family}" font-size="${style.size}" fill="${style.color}"` +
        `${style.bold ? ' font-weight="bold"' : ''}${style.anchor ? ` text-anchor="${style.anchor}"` : ''}` +
        ` xml:space="preserve">${spans}</text>`,
    );
    return this;
  }

  raw(svg: string): this {
    this.parts.push(svg);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}">` +
        `${this.parts.join('')}</svg>`,
    );
  }
}

const paraText = (p: Para): string => (typeof p === 'string' ? '' : p.runs.map((r) => r.text).join(''));

/** The width a paragraph needs, estimated generously from the font's average advance. */
const paraWidth = (p: Para, font: FontFace, size: number): number =>
  paraText(p).length * font.average * size * (typeof p === 'string' ? 1 : (p.scale ?? 1));

/** Draw paragraphs from `y` down; returns the y below the last line. */
function flow(
  svg: Svg,
  x: number,
  y: number,
  paras: readonly Para[],
  style: { font: FontFace; size: number; theme: Theme; width: number; underline?: boolean },
): number {
  const lineHeight = Math.round(style.size * 1.5);
  for (const p of paras) {
    if (p === 'blank') {
      y += Math.round(lineHeight * 0.6);
    } else if (p === 'rule') {
      svg.line(x, y + lineHeight / 2, x + style.width, y + lineHeight / 2, style.theme.rule);
      y += lineHeight;
    } else {
      const size = Math.round(style.size * (p.scale ?? 1));
      y += Math.round(size * 1.5);
      svg.text(x, y - Math.round(size * 0.4), p.runs, {
        font: style.font,
        size,
        color: style.theme.text,
        link: style.theme.link,
        underline: style.underline ?? false,
      });
    }
  }
  return y;
}

function flowHeight(paras: readonly Para[], size: number): number {
  const lineHeight = Math.round(size * 1.5);
  return paras.reduce(
    (h, p) =>
      h +
      (p === 'blank'
        ? Math.round(lineHeight * 0.6)
        : p === 'rule'
          ? lineHeight
          : Math.round(Math.round(size * (p.scale ?? 1)) * 1.5)),
    0,
  );
}

interface Frame {
  svg: Svg;
  /** Where the content area starts below the title bar. */
  top: number;
}

/** A desktop window: title bar with its buttons and title. */
function windowFrame(
  width: number,
  height: number,
  title: string,
  theme: Theme,
  ui: FontFace,
  mac: boolean,
): Frame {
  const svg = new Svg(width, height).rect(0, 0, width, height, theme.window);
  const bar = 38;
  svg.rect(0, 0, width, bar, theme.bar).line(0, bar, width, bar, theme.rule);
  if (mac) {
    svg
      .circle(20, bar / 2, 6, '#ff5f57')
      .circle(40, bar / 2, 6, '#febc2e')
      .circle(60, bar / 2, 6, '#28c840');
  } else {
    const x = width - 130;
    svg
      .line(x, bar / 2, x + 12, bar / 2, theme.muted)
      .rect(x + 50, bar / 2 - 6, 12, 12, 'none', `stroke="${theme.muted}"`)
      .line(x + 100, bar / 2 - 6, x + 112, bar / 2 + 6, theme.muted)
      .line(x + 112, bar / 2 - 6, x + 100, bar / 2 + 6, theme.muted);
  }
  svg.text(width / 2, bar / 2 + 5, title, { font: ui, size: 14, color: theme.muted, anchor: 'middle' });
  return { svg, top: bar };
}

interface Screen {
  svg: Buffer;
  width: number;
  height: number;
  /** Where a partly hidden value is, so that a cover can be drawn over its end (the incident). */
  hide?: { x: number; y: number; size: number; advance: number };
}

interface ScreenStyle {
  language: LeakImageLanguage;
  theme: Theme;
  font: FontFace;
  ui: FontFace;
  size: number;
  width: number;
  mac: boolean;
  /** Whether the mail or calendar client underlines links. */
  underline: boolean;
}

/** A mail client: folders on the left, the message on the right. */
function mailScreen(
  style: ScreenStyle,
  message: { subject: string; from: string; to: string; date: string; body: readonly Para[] },
): Screen {
  const { theme, font, ui, size, language } = style;
  const w = words[language].mail;
  const sidebar = 240;
  const contentWidth = Math.max(...message.body.map((p) => paraWidth(p, font, size)), 600);
  const width = Math.min(1920, Math.max(style.width, sidebar + contentWidth + 100));
  const headerHeight = Math.round(size * 1.5) * 4 + 70;
  const height = Math.max(Math.round(width * 0.56), 38 + headerHeight + flowHeight(message.body, size) + 80);
  const { svg, top } = windowFrame(width, height, `${w.folders[0] ?? ''} - ${w.app}`, theme, ui, style.mac);
  svg.rect(0, top + 1, sidebar, height - top, theme.sidebar);
  w.folders.forEach((folder, i) => {
    const y = top + 40 + i * 34;
    if (i === 0) svg.rect(8, y - 22, sidebar - 16, 32, theme.rule, 'rx="4"');
    svg.text(24, y, folder, { font: ui, size: 14, color: theme.text });
    if (i === 0 || i === 1)
      svg.text(sidebar - 24, y, String(3 + i * 7), {
        font: ui,
        size: 13,
        color: theme.accent,
        anchor: 'end',
      });
  });
  const x = sidebar + 40;
  let y = top + 44;
  svg.text(x, y, message.subject, { font: ui, size: Math.round(size * 1.45), color: theme.text, bold: true });
  y += 16;
  for (const [label, value] of [
    [w.from, message.from],
    [w.to, message.to],
    [w.date, message.date],
  ] as const) {
    y += Math.round(size * 1.5);
    svg.text(x, y, [{ text: `${label}: `, bold: true }, { text: value }], {
      font: ui,
      size: Math.max(13, size - 1),
      color: theme.muted,
    });
  }
  y += 18;
  svg.line(x, y, width - 40, y, theme.rule);
  flow(svg, x, y + 10, message.body, {
    font,
    size,
    theme,
    width: width - x - 40,
    underline: style.underline,
  });
  return { svg: svg.toBuffer(), width, height };
}

/** A small month grid, as calendar apps show beside an event. */
function monthGrid(svg: Svg, x: number, y: number, w: When, style: ScreenStyle): void {
  const { theme, ui, language } = style;
  const names = words[language];
  svg.text(x, y, `${names.months[w.month] ?? ''} ${w.year}`, {
    font: ui,
    size: 15,
    color: theme.text,
    bold: true,
  });
  const cell = 28;
  names.calendar.weekdayInitials.forEach((d, i) => {
    svg.text(x + i * cell + 10, y + 30, d, { font: ui, size: 12, color: theme.muted, anchor: 'middle' });
  });
  const first = (new Date(Date.UTC(w.year, w.month, 1)).getUTCDay() + 6) % 7;
  const days = new Date(Date.UTC(w.year, w.month + 1, 0)).getUTCDate();
  for (let d = 1; d <= days; d++) {
    const slot = first + d - 1;
    const cx = x + (slot % 7) * cell + 10;
    const cy = y + 56 + Math.floor(slot / 7) * 24;
    if (d === w.day) svg.circle(cx, cy - 4, 11, theme.accent);
    svg.text(cx, cy, String(d), {
      font: ui,
      size: 12,
      color: d === w.day ? '#ffffff' : theme.text,
      anchor: 'middle',
    });
  }
}

/** A calendar app showing one event: month grid on the left, the event's details on the right. */
function calendarScreen(
  style: ScreenStyle,
  event: {
    title: string;
    when: When;
    location: string;
    organiser: string;
    attendees: string;
    body: readonly Para[];
    qr?: { text: string; caption: string };
  },
): Screen {
  const { theme, font, ui, size, language } = style;
  const c = words[language].calendar;
  const sidebar = 250;
  const qrSize = event.qr ? 190 : 0;
  const contentWidth = Math.max(...event.body.map((p) => paraWidth(p, font, size)), 600) + qrSize;
  const width = Math.min(1920, Math.max(style.width, sidebar + contentWidth + 120));
  const headerHeight = Math.round(size * 1.6) * 5 + 110;
  const height = Math.max(Math.round(width * 0.56), 38 + headerHeight + flowHeight(event.body, size) + 80);
  const { svg, top } = windowFrame(width, height, `${event.title} - ${c.app}`, theme, ui, style.mac);
  svg.rect(0, top + 1, sidebar, height - top, theme.sidebar);
  monthGrid(svg, 24, top + 40, event.when, style);
  const x = sidebar + 40;
  let y = top + 52;
  svg.text(x, y, event.title, { font: ui, size: Math.round(size * 1.6), color: theme.text, bold: true });
  y += 14;
  const rows = [
    `${longDate(event.when, language)}   ${timeRange(event.when)}`,
    `${c.location}: ${event.location}`,
    `${c.organiser}: ${event.organiser}`,
    event.attendees,
  ];
  for (const row of rows) {
    y += Math.round(size * 1.6);
    svg.text(x, y, row, { font: ui, size, color: theme.muted });
  }
  y += 22;
  c.buttons.forEach((b, i) => {
    const bx = x + i * 140;
    svg.rect(bx, y, 124, 32, 'none', `stroke="${theme.rule}" rx="4"`);
    svg.text(bx + 62, y + 21, b, { font: ui, size: 13, color: theme.text, anchor: 'middle' });
  });
  y += 50;
  svg.line(x, y, width - 40, y, theme.rule);
  flow(svg, x, y + 10, event.body, {
    font,
    size,
    theme,
    width: width - x - 40 - qrSize,
    underline: style.underline,
  });
  if (event.qr) qrCode(svg, event.qr.text, width - qrSize - 30, y + 30, 170, event.qr.caption, style);
  return { svg: svg.toBuffer(), width, height };
}

/** A QR code (white quiet zone included) with a caption under it. */
function qrCode(
  svg: Svg,
  text: string,
  x: number,
  y: number,
  size: number,
  caption: string,
  style: ScreenStyle,
): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const cell = size / (n + 4);
  let path = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.modules.get(r, c))
        path += `M${(x + (c + 2) * cell).toFixed(2)} ${(y + (r + 2) * cell).toFixed(2)}h${cell.toFixed(2)}v${cell.toFixed(2)}h-${cell.toFixed(2)}z`;
    }
  }
  svg.rect(x, y, size, size, '#ffffff').raw(`<path d="${path}" fill="#000000"/>`);
  svg.text(x + size / 2, y + size + 22, caption, {
    font: style.ui,
    size: 13,
    color: style.theme.muted,
    anchor: 'middle',
  });
}

// ---------------------------------------------------------------------------------------------
// Rasters and "photo" effects. Pixels are RGB, 3 bytes each.

interface Raster {
  data: Buffer;
  width: number;
  height: number;
}

async function toRaster(image: Sharp): Promise<Raster> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const fromRaster = (r: Raster): Sharp =>
  sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } });

interface Point {
  x: number;
  y: number;
}

/**
 * The homography taking each `from` point to its `to` point (the 8 unknowns of a 3×3 matrix with
 * h₃₃ = 1, from four correspondences, solved by Gaussian elimination).
 */
function homography(from: readonly Point[], to: readonly Point[]): number[] {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = from[i]!;
    const { x: u, y: v } = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
    a.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]!;
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const row = a[r]!;
      const f = row[col]! / p[col]!;
      for (let k = col; k < 9; k++) row[k]! -= f * p[k]!;
    }
  }
  return [...a.map((row, i) => row[8]! / row[i]!), 1];
}

/** Warp a raster so that its corners land on `corners` (TL, TR, BR, BL), sampling bilinearly. */
function perspective(src: Raster, corners: readonly Point[], background: readonly number[]): Raster {
  const { width: w, height: h } = src;
  const image = [
    { x: 0, y: 0 },
    { x: w - 1, y: 0 },
    { x: w - 1, y: h - 1 },
    { x: 0, y: h - 1 },
  ];
  // Map each output pixel back to the source; along a row, numerators and denominator are linear.
  const m = homography(corners, image);
  const out = Buffer.alloc(w * h * 3);
  const s = src.data;
  const [b0, b1, b2] = background;
  for (let y = 0; y < h; y++) {
    let nx = m[1]! * y + m[2]!;
    let ny = m[4]! * y + m[5]!;
    let dd = m[7]! * y + m[8]!;
    let o = y * w * 3;
    for (let x = 0; x < w; x++, nx += m[0]!, ny += m[3]!, dd += m[6]!, o += 3) {
      const sx = nx / dd;
      const sy = ny / dd;
      if (!(sx >= 0 && sy >= 0 && sx < w - 1 && sy < h - 1)) {
        out[o] = b0!;
        out[o + 1] = b1!;
        out[o + 2] = b2!;
        continue;
      }
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = (y0 * w + x0) * 3;
      const i01 = i00 + w * 3;
      for (let c = 0; c < 3; c++) {
        const top = s[i00 + c]! + (s[i00 + 3 + c]! - s[i00 + c]!) * fx;
        const bottom = s[i01 + c]! + (s[i01 + 3 + c]! - s[i01 + c]!) * fx;
        out[o + c] = top + (bottom - top) * fy;
      }
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * Where the corners of the picture land (TL, TR, BR, BL) when the camera looks at the screen
 * from below, above or one side: the far edge is 5 to 10% shorter, each corner a little off.
 */
function keystone(random: SeededRandom, w: number, h: number): Point[] {
  const k = random.range(0.05, 0.1);
  const j = (): number => random.range(-0.008, 0.008) * Math.min(w, h);
  const [x0, y0, x1, y1] = [0, 0, w - 1, h - 1];
  const edges: Record<'top' | 'bottom' | 'left' | 'right', [number, number][]> = {
    top: [
      [x0 + k * w, y0],
      [x1 - k * w, y0],
      [x1, y1],
      [x0, y1],
    ],
    bottom: [
      [x0, y0],
      [x1, y0],
      [x1 - k * w, y1],
      [x0 + k * w, y1],
    ],
    left: [
      [x0, y0 + k * h],
      [x1, y0],
      [x1, y1],
      [x0, y1 - k * h],
    ],
    right: [
      [x0, y0],
      [x1, y0 + k * h],
      [x1, y1 - k * h],
      [x0, y1],
    ],
  };
  const far = random.pick(['top', 'bottom', 'left', 'right'] as const);
  return edges[far].map(([x, y]) => ({
    x: Math.min(x1, Math.max(x0, x + j())),
    y: Math.min(y1, Math.max(y0, y + j())),
  }));
}

let normals: Int8Array | undefined;

/**
 * A million standard normal deviates (×16, as bytes), drawn once from a fixed seed: a photo's
 * noise is a window of this table at a random offset, which keeps it cheap.
 */
function normalTable(): Int8Array {
  if (!normals) {
    const random = new SeededRandom(0x5eed);
    normals = new Int8Array(1 << 20);
    for (let i = 0; i < normals.length; i++) {
      normals[i] = Math.max(-127, Math.min(127, Math.round(random.normal() * 16)));
    }
  }
  return normals;
}

/** Sensor noise of deviation `sigma`, mostly luminance as phone cameras leave it. */
function addNoise(r: Raster, random: SeededRandom, sigma: number): void {
  const table = normalTable();
  const mask = table.length - 1;
  const scaled = new Int16Array(256);
  for (let v = -128; v < 128; v++) scaled[v + 128] = Math.round((v * sigma) / 16);
  const offset = random.int(0, mask);
  const d = r.data;
  for (let p = 0, i = 0; i < d.length; p++, i += 3) {
    const n = scaled[table[(p + offset) & mask]! + 128]!;
    const chroma = table[(p + offset + 7919) & mask]! >> 4;
    const r0 = d[i]! + n + chroma;
    const g0 = d[i + 1]! + n;
    const b0 = d[i + 2]! + n - chroma;
    d[i] = r0 < 0 ? 0 : r0 > 255 ? 255 : r0;
    d[i + 1] = g0 < 0 ? 0 : g0 > 255 ? 255 : g0;
    d[i + 2] = b0 < 0 ? 0 : b0 > 255 ? 255 : b0;
  }
}

/**
 * Moiré: the beat between the screen's pixel grid and the camera's, seen as slanted, slowly
 * wavering colour bands.
 */
function addMoire(r: Raster, random: SeededRandom): void {
  const angle = random.range(0.2, 1.2);
  const period = random.range(5, 11);
  const amplitude = random.range(7, 12);
  const waver = random.range(80, 200);
  // A sine table over one period, indexed by phase × 1024.
  const sine = new Float32Array(1024);
  for (let i = 0; i < 1024; i++) sine[i] = amplitude * Math.sin((2 * Math.PI * i) / 1024);
  const dx = (Math.cos(angle) / period) * 1024;
  const dy = (Math.sin(angle) / period) * 1024;
  const d = new Uint8ClampedArray(r.data.buffer, r.data.byteOffset, r.data.length);
  for (let y = 0; y < r.height; y++) {
    let phase = y * dy + 1.5 * 1024 * Math.sin(y / waver) + 1024 * 1024;
    let o = y * r.width * 3;
    for (let x = 0; x < r.width; x++, phase += dx, o += 3) {
      const p = phase | 0;
      d[o] = d[o]! + sine[p & 1023]!;
      d[o + 1] = d[o + 1]! + sine[(p + 341) & 1023]!;
      d[o + 2] = d[o + 2]! + sine[(p + 683) & 1023]!;
    }
  }
}

/** A soft glare: a bright radial gradient, as a lamp or window reflects on the screen. */
function glare(random: SeededRandom, w: number, h: number): Buffer {
  const cx = random.range(0.2, 0.8) * w;
  const cy = random.range(0.2, 0.8) * h;
  const r = random.range(0.25, 0.4) * w;
  const opacity = random.range(0.35, 0.5).toFixed(2);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
      `<defs><radialGradient id="g" cx="${cx}" cy="${cy}" r="${r}" gradientUnits="userSpaceOnUse">` +
      `<stop offset="0" stop-color="#ffffff" stop-opacity="${opacity}"/>` +
      `<stop offset="1" stop-color="#ffffff" stop-opacity="0"/></radialGradient></defs>` +
      `<rect width="${w}" height="${h}" fill="url(#g)"/></svg>`,
  );
}

type Rgb = readonly [number, number, number];

/** The screen as a camera sees it: on its bezel, on a desk. */
function onDesk(screen: Screen, random: SeededRandom): { svg: Buffer; desk: Rgb } {
  const bezel = Math.round(screen.width * random.range(0.012, 0.02));
  const margin = Math.round(screen.width * random.range(0.05, 0.08));
  const desk = random.pick<Rgb>([
    [92, 84, 74],
    [120, 118, 112],
    [58, 60, 66],
    [150, 140, 124],
  ]);
  const shade = random.int(10, 30);
  const width = screen.width + 2 * (margin + bezel);
  const height = screen.height + 2 * (margin + bezel);
  const inner = screen.svg.toString().replace('<svg ', `<svg x="${margin + bezel}" y="${margin + bezel}" `);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${width}" height="${height}" fill="rgb(${desk.join(',')})"/>` +
    `<rect x="${margin}" y="${margin}" width="${screen.width + 2 * bezel}" height="${screen.height + 2 * bezel}"` +
    ` rx="${Math.round(bezel / 2)}" fill="rgb(${shade},${shade},${shade + 4})"/>${inner}</svg>`;
  return { svg: Buffer.from(svg), desk };
}

/** Turn a rendered screen into a photo of it, dominated by the defect `variant` names. */
async function photograph(screen: Screen, variant: LeakImageVariant, random: SeededRandom): Promise<Buffer> {
  const { svg, desk } = onDesk(screen, random);
  let raster = await toRaster(sharp(svg));
  const background = { r: desk[0], g: desk[1], b: desk[2] };
  // A phone photo keeps about the screen's resolution.
  const finalWidth = Math.round(Math.min(1920, Math.max(1280, raster.width * random.range(0.9, 1.1))));
  let blur = random.range(0.5, 0.8);
  let noise = random.range(3, 6);
  let quality = random.int(70, 80);
  let contrast: [number, number] | undefined;
  let glaring = false;
  switch (variant) {
    case 'photo-perspective':
      raster = perspective(raster, keystone(random, raster.width, raster.height), desk);
      break;
    case 'photo-rotated': {
      const angle = random.pick([-1, 1]) * random.range(3, 8);
      const rotated = await toRaster(fromRaster(raster).rotate(angle, { background }));
      const left = Math.floor((rotated.width - raster.width) / 2);
      const top = Math.floor((rotated.height - raster.height) / 2);
      raster = await toRaster(
        fromRaster(rotated).extract({ left, top, width: raster.width, height: raster.height }),
      );
      break;
    }
    case 'photo-low-contrast': {
      const a = random.range(0.45, 0.6);
      contrast = [a, 128 * (1 - a) + random.range(-20, 20)];
      noise = random.range(5, 8);
      break;
    }
    case 'photo-moire-glare':
      addMoire(raster, random);
      glaring = true;
      break;
    case 'photo-rescaled':
      raster = await toRaster(
        fromRaster(raster).resize({
          width: Math.round(raster.width * random.range(0.55, 0.7)),
          kernel: 'linear',
        }),
      );
      quality = random.int(60, 68);
      break;
    case 'photo-noise':
      noise = random.range(9, 14);
      blur = random.range(0.8, 1.1);
      break;
    case 'photo-rotated-90':
    case 'screenshot':
      break;
  }
  // The lens blurs, a reflection lies on the screen, the sensor adds noise at its own
  // resolution, the phone saves a JPEG.
  let lens = fromRaster(raster).resize({ width: finalWidth, kernel: 'lanczos3' }).blur(blur);
  if (contrast) lens = lens.linear(...contrast);
  if (glaring) {
    const height = Math.floor((raster.height * finalWidth) / raster.width);
    lens = lens.composite([{ input: glare(random, finalWidth, height), blend: 'screen' }]);
  }
  const sensor = await toRaster(lens);
  addNoise(sensor, random, noise);
  let out = fromRaster(sensor);
  if (variant === 'photo-rotated-90') out = out.rotate(random.pick([90, 270]));
  return out.jpeg({ quality }).toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Credential cases.

interface ScreenSpec {
  language: LeakImageLanguage;
  product: MeetingProduct;
  layout: 'mail' | 'calendar';
  style: ScreenStyle;
}

function screenStyle(
  random: SeededRandom,
  language: LeakImageLanguage,
  size: number,
  dark: boolean,
): ScreenStyle {
  return {
    language,
    theme: dark ? darkTheme : lightTheme,
    font: random.pick(bodyFonts),
    ui: random.pick(uiFonts),
    size,
    width: random.int(1280, 1600),
    underline: random.chance(0.3),
    mac: random.chance(0.5),
  };
}

function invitationScreen(
  random: SeededRandom,
  spec: ScreenSpec,
): { screen: Screen; expected: ExpectedCredential[] } {
  const { language, product, style } = spec;
  const inv = invitation(random, language, product);
  const to = random.pick(words[language].groups);
  if (spec.layout === 'mail') {
    const screen = mailScreen(style, {
      subject: inv.title,
      from: `${inv.organiser.name} <${inv.organiser.email}>`,
      to,
      date: `${longDate(inv.when, language)} ${clock(random.int(7, 18), random.int(0, 59))}`,
      body: inv.body,
    });
    return { screen, expected: inv.expected };
  }
  const accepted = random.int(2, 14);
  const screen = calendarScreen(style, {
    title: inv.title,
    when: inv.when,
    location: inv.location,
    organiser: inv.organiser.name,
    attendees: words[language].calendar.attendees(accepted, random.int(0, 4)),
    body: inv.body,
    ...(inv.qr ? { qr: inv.qr } : {}),
  });
  return { screen, expected: inv.expected };
}

/**
 * The 2020 incident: a meeting's information panel with its link, its ID and a six-digit PIN of
 * which the last digit is hidden (a sticky note, a thumb, a notification), the other five legible.
 */
function incidentScreen(
  random: SeededRandom,
  style: ScreenStyle,
): { screen: Screen; expected: ExpectedCredential[] } {
  const { language, theme, ui, size } = style;
  const font = random.pick([fonts.sans, fonts.liberationSans, fonts.mono]);
  const id = `${random.pick(['8', '9'])}${random.digits(2, true)} ${random.digits(4, true)} ${random.digits(4, true)}`;
  const pin = random.digits(6);
  const visible = pin.slice(0, 5);
  const url = `https://us0${random.int(2, 6)}web.zoom.us/j/${digitsOf(id)}`;
  const t = {
    en: {
      head: 'Meeting information',
      title: random.pick(words.en.titles),
      id: 'Meeting ID',
      pin: 'PIN',
      link: 'Invite link',
      host: 'Host',
    },
    fr: {
      head: 'Informations sur la réunion',
      title: random.pick(words.fr.titles),
      id: 'ID de réunion',
      pin: 'Code PIN',
      link: "Lien d'invitation",
      host: 'Organisateur',
    },
    nl: {
      head: 'Vergaderinformatie',
      title: random.pick(words.nl.titles),
      id: 'Vergadering-ID',
      pin: 'Pincode',
      link: 'Uitnodigingslink',
      host: 'Host',
    },
  }[language];
  const width = Math.max(style.width, 1280);
  const height = Math.round(width * 0.6);
  const { svg, top } = windowFrame(width, height, t.title, theme, ui, style.mac);
  // The meeting's video grid behind the panel.
  const tiles = ['#3c4043', '#4a4e52', '#35393c', '#44484c'];
  tiles.forEach((fill, i) => {
    svg.rect(
      (i % 2) * (width / 2),
      top + Math.floor(i / 2) * ((height - top) / 2),
      width / 2,
      (height - top) / 2,
      fill,
    );
  });
  const panelSize = Math.max(size, 16);
  const lineHeight = Math.round(panelSize * 2.1);
  const px = Math.round(width * 0.2);
  const py = top + 80;
  const pw = Math.round(width * 0.6);
  const ph = lineHeight * 6 + 60;
  svg.rect(px, py, pw, ph, theme.pane, `rx="10" stroke="${theme.rule}"`);
  svg.text(px + 30, py + 44, t.head, {
    font: ui,
    size: Math.round(panelSize * 1.3),
    color: theme.text,
    bold: true,
  });
  svg.text(px + 30, py + 44 + lineHeight, t.title, { font: ui, size: panelSize, color: theme.muted });
  const valueX = px + 30 + Math.round(panelSize * 11);
  // The PIN is the last row, so that what hides its end touches no other row.
  const rows: [string, string][] = [
    [t.link, url],
    [t.id, id],
    [t.host, person(random, language).name],
    [t.pin, pin],
  ];
  rows.forEach(([label, value], i) => {
    const y = py + 44 + lineHeight * (i + 2);
    svg.text(px + 30, y, label, { font: ui, size: panelSize, color: theme.muted });
    svg.text(valueX, y, value, { font, size: panelSize, color: label === t.link ? theme.link : theme.text });
  });
  const pinY = py + 44 + lineHeight * 5;
  return {
    screen: {
      svg: svg.toBuffer(),
      width,
      height,
      hide: { x: valueX, y: pinY, size: panelSize, advance: font.digit },
    },
    expected: [
      { kind: 'meeting_link', value: `zoom.us/j/${digitsOf(id)}` },
      { kind: 'meeting_id', value: digitsOf(id) },
      { kind: 'passcode', value: visible },
    ],
  };
}

/**
 * Draw what hides the sixth digit of the PIN: its left edge passes just after the fifth digit,
 * its top stays below the row above.
 */
function cover(screen: Screen, random: SeededRandom, language: LeakImageLanguage): Screen {
  const hide = screen.hide;
  if (!hide) return screen;
  const x = Math.round(hide.x + hide.size * hide.advance * 5 + hide.size * 0.1);
  const top = Math.round(hide.y - hide.size * 1.2);
  let shape: string;
  switch (random.int(0, 2)) {
    case 0: {
      const note = { en: 'call back', fr: 'rappeler', nl: 'terugbellen' }[language];
      shape =
        `<g transform="rotate(${random.range(-2, 2).toFixed(1)} ${x} ${hide.y})">` +
        `<rect x="${x}" y="${top}" width="200" height="170" fill="#fdf08a"/>` +
        `<text x="${x + 24}" y="${top + 60}" font-family="DejaVu Sans" font-size="20" fill="#3a3a3a">${note}</text></g>`;
      break;
    }
    case 1: {
      // A fingertip coming up from the lower right, its nail towards the PIN.
      const r = Math.round(hide.size * 0.4);
      const w = Math.max(110, Math.round(hide.size * hide.advance * 5));
      shape =
        `<path d="M${x} ${top + r} Q${x} ${top} ${x + r} ${top} L${x + w - 50} ${top} Q${x + w} ${top} ${x + w + 10} ${top + 60}` +
        ` L${x + w + 80} ${top + 400} L${x - 10} ${top + 400} Z" fill="#d8a07e"/>` +
        `<rect x="${x + 18}" y="${top + 8}" width="${w - 50}" height="56" rx="24" fill="#eac2ad"/>`;
      break;
    }
    default: {
      const text = { en: 'New message', fr: 'Nouveau message', nl: 'Nieuw bericht' }[language];
      shape =
        `<rect x="${x}" y="${top}" width="380" height="90" rx="6" fill="#2d2f33" stroke="#55585e"/>` +
        `<text x="${x + 20}" y="${top + 36}" font-family="DejaVu Sans" font-size="17" fill="#ffffff">${text}</text>`;
    }
  }
  return { ...screen, svg: Buffer.from(screen.svg.toString().replace(/<\/svg>$/, `${shape}</svg>`)) };
}

// ---------------------------------------------------------------------------------------------
// Clean cases: ordinary documents full of numbers, and nothing a leak check should report.

interface CleanText {
  title: string;
  /** For a calendar entry: the event; for a mail: subject and sender; for a document: the page. */
  body: Para[];
}

function agenda(random: SeededRandom, language: LeakImageLanguage): CleanText {
  const w = when(random);
  const room = `${random.int(1, 6)}.${pad2(random.int(1, 40))}`;
  const budget = `${random.int(1, 9)} ${random.digits(3, true)} ${random.digits(3, true)}`;
  const version = `${random.int(1, 3)}.${random.int(0, 9)}`;
  const page = random.int(2, 4);
  const pages = page + random.int(1, 6);
  const times = [0, 20, 45, 75, 90, 120].map((m) => {
    const t = w.hour * 60 + w.minute + m;
    return clock(Math.floor(t / 60), t % 60);
  });
  const share = random.int(12, 48);
  const year = w.year;
  const items = {
    en: [
      `${times[0]}  1. Welcome and adoption of the agenda`,
      `${times[1]}  2. Minutes of the meeting of ${w.day} ${words.en.months[(w.month + 11) % 12]} (annex 1, p. 3-5)`,
      `${times[2]}  3. Budget ${year + 1}: draft of EUR ${budget} (${share}% for staff)`,
      `${times[3]}  4. Progress report, work packages 2 to 7`,
      `${times[4]}  5. Coffee break (room ${room})`,
      `${times[5]}  6. Any other business; next meeting in week ${random.int(2, 50)}`,
    ],
    fr: [
      `${times[0]}  1. Accueil et adoption de l'ordre du jour`,
      `${times[1]}  2. Procès-verbal de la réunion du ${w.day} ${words.fr.months[(w.month + 11) % 12]} (annexe 1, p. 3-5)`,
      `${times[2]}  3. Budget ${year + 1} : projet de ${budget} EUR (${share} % pour le personnel)`,
      `${times[3]}  4. État d'avancement, lots 2 à 7`,
      `${times[4]}  5. Pause café (salle ${room})`,
      `${times[5]}  6. Divers ; prochaine réunion en semaine ${random.int(2, 50)}`,
    ],
    nl: [
      `${times[0]}  1. Verwelkoming en goedkeuring van de agenda`,
      `${times[1]}  2. Verslag van de vergadering van ${w.day} ${words.nl.months[(w.month + 11) % 12]} (bijlage 1, p. 3-5)`,
      `${times[2]}  3. Begroting ${year + 1}: ontwerp van EUR ${budget} (${share}% voor personeel)`,
      `${times[3]}  4. Voortgangsrapport, werkpakketten 2 tot 7`,
      `${times[4]}  5. Koffiepauze (zaal ${room})`,
      `${times[5]}  6. Varia; volgende vergadering in week ${random.int(2, 50)}`,
    ],
  }[language];
  const head = {
    en: {
      title: random.pick(words.en.titles),
      kind: 'Agenda',
      where: `Room ${room}, building B, Rue de la Loi 16, 1040 Brussels`,
      footer: `Version ${version} - page ${page} of ${pages}`,
    },
    fr: {
      title: random.pick(words.fr.titles),
      kind: 'Ordre du jour',
      where: `Salle ${room}, bâtiment B, 20 avenue de Ségur, 75007 Paris`,
      footer: `Version ${version} - page ${page} sur ${pages}`,
    },
    nl: {
      title: random.pick(words.nl.titles),
      kind: 'Agenda',
      where: `Zaal ${room}, gebouw B, Koning Albert II-laan 35, 1030 Brussel`,
      footer: `Versie ${version} - pagina ${page} van ${pages}`,
    },
  }[language];
  return {
    title: head.title,
    body: [
      big(`${head.kind} - ${head.title}`, 1.4),
      line(`${longDate(w, language)}, ${timeRange(w)} - ${head.where}`),
      'rule',
      ...items.map((i) => line(i)),
      'blank',
      'rule',
      line(head.footer),
    ],
  };
}

function training(random: SeededRandom, language: LeakImageLanguage): CleanText {
  const w = when(random);
  const room = `${random.pick(['A', 'B', 'C'])}-${random.int(101, 420)}`;
  const price = `${random.int(20, 90)},${random.pick(['00', '50'])}`;
  const seats = random.int(3, 24);
  const ref = `${random.pick(['HR', 'RH', 'PO'])}/${w.year}/${random.int(100, 999)}`;
  const sender = random.pick(words[language].people);
  const deadline = `${pad2(random.int(1, 28))}/${pad2(w.month + 1)}/${w.year}`;
  const body = {
    en: [
      'Dear colleagues,',
      'blank',
      `The training session "Writing clear minutes" takes place on ${longDate(w, language)}`,
      `from ${timeRange(w)} in room ${room} (2nd floor).`,
      `Registration costs EUR ${price} per person; ${seats} of the 30 seats are still free.`,
      `Please register before ${deadline} and quote reference ${ref}.`,
      `Programme and directions: https://intranet.example.eu/training/${w.year}/minutes`,
      'The meeting ID and the programme will follow by email.',
      'blank',
      'Kind regards,',
      sender,
    ],
    fr: [
      'Chers collègues,',
      'blank',
      `La formation « Rédiger un procès-verbal clair » aura lieu le ${longDate(w, language)}`,
      `de ${timeRange(w)} en salle ${room} (2e étage).`,
      `L'inscription coûte ${price} EUR par personne ; il reste ${seats} places sur 30.`,
      `Merci de vous inscrire avant le ${deadline} en rappelant la référence ${ref}.`,
      `Programme et accès : https://intranet.example.fr/formation/${w.year}/proces-verbal`,
      'Le code secret vous sera communiqué par SMS le jour même.',
      'blank',
      'Bien cordialement,',
      sender,
    ],
    nl: [
      'Beste collega’s,',
      'blank',
      `De opleiding "Heldere verslagen schrijven" vindt plaats op ${longDate(w, language)}`,
      `van ${timeRange(w)} in zaal ${room} (2de verdieping).`,
      `Inschrijven kost EUR ${price} per persoon; er zijn nog ${seats} van de 30 plaatsen vrij.`,
      `Schrijf u in vóór ${deadline} met vermelding van referentie ${ref}.`,
      `Programma en route: https://intranet.example.be/opleiding/${w.year}/verslagen`,
      'Het programma volgt later per e-mail.',
      'blank',
      'Met vriendelijke groeten,',
      sender,
    ],
  }[language];
  const title = {
    en: 'Training session - registration',
    fr: 'Formation - inscription',
    nl: 'Opleiding - inschrijving',
  }[language];
  return { title, body: body.map((b) => (b === 'blank' ? 'blank' : line(b))) };
}

function inPersonEvent(
  random: SeededRandom,
  language: LeakImageLanguage,
): CleanText & { when: When; location: string } {
  const w = when(random);
  const floor = random.int(1, 9);
  const room = `${floor}.${pad2(random.int(1, 30))}`;
  const table = random.int(2, 9);
  const page = random.int(4, 40);
  const location = {
    en: `Room ${room}, building B, floor ${floor}`,
    fr: `Salle ${room}, bâtiment B, ${floor}e étage`,
    nl: `Zaal ${room}, gebouw B, verdieping ${floor}`,
  }[language];
  const body = {
    en: [
      'Please bring the figures of the first quarter (table ' + table + ', p. ' + page + ').',
      `Lunch at ${clock(12, 30)}, about EUR ${random.int(8, 15)},50 per person.`,
      `Parking: levels -1 and -2, ${random.int(20, 80)} places.`,
      'No video link: this meeting is held in person only.',
    ],
    fr: [
      `Merci d'apporter les chiffres du premier trimestre (tableau ${table}, p. ${page}).`,
      `Déjeuner à 12h30, environ ${random.int(8, 15)},50 EUR par personne.`,
      `Parking : niveaux -1 et -2, ${random.int(20, 80)} places.`,
      'Pas de lien vidéo : cette réunion se tient uniquement en présentiel.',
    ],
    nl: [
      `Breng de cijfers van het eerste kwartaal mee (tabel ${table}, p. ${page}).`,
      `Lunch om 12.30 uur, ongeveer EUR ${random.int(8, 15)},50 per persoon.`,
      `Parking: niveaus -1 en -2, ${random.int(20, 80)} plaatsen.`,
      'Geen videolink: deze vergadering vindt alleen fysiek plaats.',
    ],
  }[language];
  return { title: random.pick(words[language].titles), when: w, location, body: body.map((b) => line(b)) };
}

function invoice(random: SeededRandom, language: LeakImageLanguage): CleanText {
  const w = when(random);
  const items = {
    en: [
      'Meeting room hire (half day)',
      'Coffee and water, 24 people',
      'Printing, 180 pages',
      'Projector rental',
    ],
    fr: [
      'Location de salle (demi-journée)',
      'Café et eau, 24 personnes',
      'Impression, 180 pages',
      'Location du projecteur',
    ],
    nl: [
      'Huur vergaderzaal (halve dag)',
      'Koffie en water, 24 personen',
      'Drukwerk, 180 pagina’s',
      'Huur projector',
    ],
  }[language];
  let total = 0;
  const rows = items.map((label) => {
    const qty = random.int(1, 4);
    const unit = random.int(15, 420) + random.pick([0, 0.5, 0.25]);
    total += qty * unit;
    const money = (n: number): string => n.toFixed(2).replace('.', ',');
    return `${label.padEnd(34, ' ')} ${String(qty).padStart(3)}   ${money(unit).padStart(9)}   ${money(qty * unit).padStart(9)}`;
  });
  const t = {
    en: {
      title: `Order form no. ${w.year}-${random.digits(5, true)}`,
      head: 'Item                                Qty  Unit price       Total',
      total: 'Total (VAT incl.)',
      due: 'Due date',
    },
    fr: {
      title: `Bon de commande n° ${w.year}-${random.digits(5, true)}`,
      head: 'Article                             Qté  Prix unit.       Total',
      total: 'Total TTC',
      due: "Date d'échéance",
    },
    nl: {
      title: `Bestelbon nr. ${w.year}-${random.digits(5, true)}`,
      head: 'Artikel                            Aantal Eenheidsprijs  Totaal',
      total: 'Totaal (incl. btw)',
      due: 'Vervaldatum',
    },
  }[language];
  return {
    title: t.title,
    body: [
      big(t.title, 1.4),
      line(longDate(w, language)),
      'rule',
      line(bold(t.head)),
      ...rows.map((r) => line(r)),
      'rule',
      line(bold(`${t.total}: EUR ${total.toFixed(2).replace('.', ',')}`)),
      line(`${t.due}: ${pad2(w.day)}/${pad2(((w.month + 1) % 12) + 1)}/${w.year}`),
    ],
  };
}

/** A document viewer showing one page. */
function documentScreen(style: ScreenStyle, doc: CleanText): Screen {
  const { theme, ui, size } = style;
  const font = style.font;
  const pageWidth = Math.max(...doc.body.map((p) => paraWidth(p, font, size)), 700) + 120;
  const width = Math.min(1920, Math.max(style.width, pageWidth + 200));
  const height = Math.max(Math.round(width * 0.6), flowHeight(doc.body, size) + 260);
  const { svg, top } = windowFrame(width, height, `${doc.title}.pdf`, theme, ui, style.mac);
  svg.rect(0, top + 1, width, 44, theme.bar);
  svg.text(24, top + 29, `${Math.round(size * 7)} %`, { font: ui, size: 14, color: theme.muted });
  svg.rect(0, top + 45, width, height - top - 45, '#5f6368');
  const px = Math.round((width - pageWidth) / 2);
  svg.rect(px, top + 70, pageWidth, height - top - 70, '#ffffff');
  flow(svg, px + 60, top + 110, doc.body, { font, size, theme: lightTheme, width: pageWidth - 120 });
  return { svg: svg.toBuffer(), width, height };
}

/** A week view: hours down the side, days across, a few events with their rooms. */
function weekScreen(random: SeededRandom, style: ScreenStyle): Screen {
  const { theme, ui, language } = style;
  const w = when(random);
  const names = words[language];
  const width = style.width;
  const height = Math.round(width * 0.6);
  const { svg, top } = windowFrame(
    width,
    height,
    `${names.calendar.app} - ${names.months[w.month] ?? ''} ${w.year}`,
    theme,
    ui,
    style.mac,
  );
  const left = 80;
  const head = top + 60;
  const colWidth = (width - left - 20) / 5;
  const hourHeight = (height - head - 20) / 10;
  const monday = w.day - ((w.weekday + 6) % 7);
  for (let d = 0; d < 5; d++) {
    const x = left + d * colWidth;
    svg.line(x, head - 50, x, height - 20, theme.rule);
    const day = new Date(Date.UTC(w.year, w.month, monday + d));
    svg.text(x + 12, head - 20, `${names.weekdays[(d + 1) % 7] ?? ''} ${day.getUTCDate()}`, {
      font: ui,
      size: 15,
      color: theme.text,
    });
  }
  for (let h = 0; h < 10; h++) {
    const y = head + h * hourHeight;
    svg.line(left, y, width - 20, y, theme.rule);
    svg.text(left - 10, y + 16, `${pad2(8 + h)}:00`, {
      font: ui,
      size: 13,
      color: theme.muted,
      anchor: 'end',
    });
  }
  const events = {
    en: [
      'Team meeting',
      'Budget review',
      'Lunch with partners',
      'Training',
      'Steering committee',
      'Press review',
      'Interviews',
    ],
    fr: [
      'Réunion d’équipe',
      'Revue budgétaire',
      'Déjeuner partenaires',
      'Formation',
      'Comité de pilotage',
      'Revue de presse',
      'Entretiens',
    ],
    nl: [
      'Teamvergadering',
      'Budgetbespreking',
      'Lunch met partners',
      'Opleiding',
      'Stuurgroep',
      'Persoverzicht',
      'Sollicitaties',
    ],
  }[language];
  const roomWord = { en: 'Room', fr: 'Salle', nl: 'Zaal' }[language];
  for (let d = 0; d < 5; d++) {
    let h = random.int(0, 2);
    while (h < 8) {
      const length = random.pick([1, 1, 2]);
      const x = left + d * colWidth + 4;
      const y = head + h * hourHeight + 2;
      svg.rect(x, y, colWidth - 8, length * hourHeight - 4, theme.accent, 'rx="4" fill-opacity="0.2"');
      svg.text(x + 8, y + 22, random.pick(events), { font: ui, size: 14, color: theme.text, bold: true });
      svg.text(
        x + 8,
        y + 42,
        `${pad2(8 + h)}:00 - ${pad2(8 + h + length)}:00, ${roomWord} ${random.int(1, 6)}.${pad2(random.int(1, 30))}`,
        { font: ui, size: 13, color: theme.muted },
      );
      h += length + random.int(0, 2);
    }
  }
  return { svg: svg.toBuffer(), width, height };
}

function cleanScreen(random: SeededRandom, kind: CleanKind, style: ScreenStyle): Screen {
  const { language } = style;
  switch (kind) {
    case 'document':
      return documentScreen(style, agenda(random, language));
    case 'invoice':
      return documentScreen(
        { ...style, font: random.pick([fonts.mono, fonts.liberationMono]) },
        invoice(random, language),
      );
    case 'mail': {
      const mail = training(random, language);
      return mailScreen(style, {
        subject: mail.title,
        from: random.pick(words[language].people),
        to: random.pick(words[language].groups),
        date: longDate(when(random), language),
        body: mail.body,
      });
    }
    case 'calendar': {
      const event = inPersonEvent(random, language);
      const organiser = random.pick(words[language].people);
      return calendarScreen(style, {
        title: event.title,
        when: event.when,
        location: event.location,
        organiser,
        attendees: words[language].calendar.attendees(random.int(2, 12), random.int(0, 3)),
        body: event.body,
      });
    }
    case 'week':
      return weekScreen(random, style);
  }
}

type CleanKind = 'document' | 'invoice' | 'mail' | 'calendar' | 'week';

// ---------------------------------------------------------------------------------------------
// Assembly.

const languages: readonly LeakImageLanguage[] = ['en', 'fr', 'nl'];
/** Body sizes, small to large; each screenshot takes the next one so that every size is used. */
const screenshotSizes = [13, 14, 15, 16, 18, 20, 24];
const photoSizes = [15, 16, 18, 20, 22];

async function renderPng(screen: Screen): Promise<Buffer> {
  return sharp(screen.svg).png({ compressionLevel: 3 }).toBuffer();
}

interface Job {
  name: string;
  language: LeakImageLanguage;
  variant: LeakImageVariant;
  product: MeetingProduct | null;
  layout: string;
  /** Draws the screen from the job's own generator, which then also drives the photo. */
  draw: (random: SeededRandom) => { screen: Screen; expected: ExpectedCredential[] };
}

async function run(job: Job, seed: number): Promise<LeakImageCase> {
  const random = new SeededRandom(seed);
  const { screen, expected } = job.draw(random);
  const photo = job.variant !== 'screenshot';
  const image = photo ? await photograph(screen, job.variant, random) : await renderPng(screen);
  const { draw: _draw, ...rest } = job;
  return { ...rest, format: photo ? 'jpeg' : 'png', image, expected };
}

function credentialJobs(random: SeededRandom): Job[] {
  const jobs: Job[] = [];
  let shot = 0;
  const invitationJob = (
    language: LeakImageLanguage,
    product: MeetingProduct,
    layout: 'mail' | 'calendar',
    variant: LeakImageVariant,
    size: number,
    dark: boolean,
  ): Job => ({
    name: `${language}-${product}-${layout}-${variant}`,
    language,
    variant,
    product,
    layout,
    draw: (r) =>
      invitationScreen(r, { language, product, layout, style: screenStyle(r, language, size, dark) }),
  });
  languages.forEach((language, l) => {
    meetingProducts.forEach((product, p) => {
      // Each product as a screenshot, and as a photo of the other layout with another defect.
      const layout = (p + l) % 2 === 0 ? 'mail' : 'calendar';
      const size = screenshotSizes[shot++ % screenshotSizes.length]!;
      jobs.push(invitationJob(language, product, layout, 'screenshot', size, random.chance(0.25)));
      const variant = photoVariants[(p + 2 * l) % photoVariants.length]!;
      const other = layout === 'mail' ? 'calendar' : 'mail';
      jobs.push(
        invitationJob(language, product, other, variant, photoSizes[(p + l) % photoSizes.length]!, false),
      );
    });
    // Rempart's own links matter most: one more photo of them.
    const extra = photoVariants[(l * 2 + 3) % photoVariants.length]!;
    jobs.push(invitationJob(language, 'rempart', 'mail', extra, photoSizes[l]!, false));
    // The incident, as a screenshot and as a photo.
    for (const variant of ['screenshot', photoVariants[(l * 2 + 1) % photoVariants.length]!] as const) {
      jobs.push({
        name: `${language}-incident-panel-${variant}`,
        language,
        variant,
        product: 'zoom',
        layout: 'panel',
        draw: (r) => {
          const { screen, expected } = incidentScreen(
            r,
            screenStyle(r, language, variant === 'screenshot' ? 16 : 18, false),
          );
          return { screen: cover(screen, r, language), expected };
        },
      });
    }
  });
  // One photo taken with the phone held sideways.
  jobs.push(invitationJob('en', 'zoom', 'mail', 'photo-rotated-90', 18, false));
  return jobs;
}

function cleanJobs(random: SeededRandom): Job[] {
  const jobs: Job[] = [];
  let index = 0;
  languages.forEach((language, l) => {
    // Every kind as a screenshot, then three photos: an order form and two of the others.
    const photographed: CleanKind[] = [
      'invoice',
      (['document', 'mail', 'calendar', 'week'] as const)[l]!,
      (['calendar', 'week', 'document', 'mail'] as const)[l]!,
    ];
    const plan: [CleanKind, boolean][] = [
      ...(['document', 'mail', 'calendar', 'week'] as const).map((k): [CleanKind, boolean] => [k, false]),
      ...photographed.map((k): [CleanKind, boolean] => [k, true]),
    ];
    for (const [kind, photo] of plan) {
      const i = index++;
      const variant = photo ? photoVariants[i % photoVariants.length]! : 'screenshot';
      const size = photo ? photoSizes[i % photoSizes.length]! : screenshotSizes[i % screenshotSizes.length]!;
      const dark = !photo && random.chance(0.25);
      jobs.push({
        name: `${language}-clean-${kind}-${variant}`,
        language,
        variant,
        product: null,
        layout: kind,
        draw: (r) => ({ screen: cleanScreen(r, kind, screenStyle(r, language, size, dark)), expected: [] }),
      });
    }
  });
  return jobs;
}

/**
 * Generate the test set: about 45 images showing meeting credentials and 20 clean ones.
 *
 * @example
 * const cases = await generateLeakImages({ seed: 2020 });
 * const credentials = cases.filter((c) => c.expected.length > 0);
 */
export async function generateLeakImages(options: { seed?: number } = {}): Promise<LeakImageCase[]> {
  const random = new SeededRandom(options.seed ?? 2020);
  const jobs = [...credentialJobs(random), ...cleanJobs(random)];
  // Each job has its own seed drawn up front, so the jobs may run in any order; a few at a time
  // keep both the event loop and the image library busy without holding every raster at once.
  const seeds = jobs.map(() => random.int(0, 2 ** 31 - 1));
  const cases: LeakImageCase[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < jobs.length; i = next++) cases[i] = await run(jobs[i]!, seeds[i]!);
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return cases;
}
