/**
 * Text detectors for the leak check: given the words OCR read from an image, find what the image
 * gives away (meeting links and codes, credentials, contact details, classification markings).
 *
 * Pure and I/O-free. Each finding's box is the union of the exact words holding the secret, so the
 * redaction step can mask them. Matching runs on the joined text of all lines (words separated by a
 * space, lines by a newline) so a value split across words, or a code on the line after its label,
 * is still found; character offsets are mapped back to words.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface OcrWord {
  text: string;
  box: Box;
  confidence: number;
}

export interface OcrLine {
  words: readonly OcrWord[];
}

export type FindingKind =
  | 'rempart_meeting_link'
  | 'meeting_link'
  | 'meeting_id'
  | 'passcode'
  | 'dial_in'
  | 'secret'
  | 'email'
  | 'phone'
  | 'classification_marking';

export type Severity = 'high' | 'medium' | 'low';

export interface WordRef {
  line: number;
  word: number;
}

export interface Finding {
  kind: FindingKind;
  /** The words holding the secret, as OCR read them. */
  text: string;
  box: Box;
  reason: string;
  severity: Severity;
  /** The words covered, in reading order. */
  words: WordRef[];
  details?: {
    /** The id of a Rempart meeting link (`/m/<id>`). */
    linkId?: string;
    /** The digits of a code, with O/0 and l/1 confusions undone and separators removed. */
    digits?: string;
  };
}

// ---------------------------------------------------------------------------------------------
// Keyword tables (compared without accents and case; a space, apostrophe or dash in a keyword
// also matches none, or another of them, since OCR often drops or swaps them).

const passcodeKeywords: Record<'en' | 'fr' | 'nl', readonly string[]> = {
  en: [
    'passcode',
    'pin code',
    'pin',
    'access code',
    'participant code',
    'attendee code',
    'security code',
    'meeting password',
    'password',
    'passwd',
    'pwd',
    'code',
  ],
  fr: [
    'code secret',
    "code d'acces",
    'code acces',
    'code pin',
    'code participant',
    'code de la reunion',
    'mot de passe',
    'mdp',
  ],
  nl: ['toegangscode', 'pincode', 'deelnemerscode', 'beveiligingscode', 'vergadercode', 'wachtwoord'],
};

const meetingIdKeywords: Record<'en' | 'fr' | 'nl', readonly string[]> = {
  en: ['meeting id', 'meeting number', 'conference id', 'webinar id', 'event number'],
  fr: [
    'id de reunion',
    'id de la reunion',
    'identifiant de reunion',
    'identifiant de la reunion',
    'numero de reunion',
    'numero de la reunion',
    'id de conference',
    'id de la conference',
    'id de conference telephonique',
  ],
  nl: ['vergadering id', 'vergader id', 'vergadernummer', 'conferentie id', 'vergaderings id'],
};

const dialInKeywords: Record<'en' | 'fr' | 'nl', readonly string[]> = {
  en: ['dial in', 'dial by your location', 'call in', 'join by phone', 'one tap mobile'],
  fr: ["numero d'appel", 'rejoindre par telephone', 'appel audio', 'composez le'],
  nl: ['inbellen', 'inbelnummer', 'telefonisch deelnemen', 'bel in'],
};

/** Keywords of a credential whose value, when it is not a short code, is a secret. */
const secretKeywords: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'mot de passe',
  'mdp',
  'wachtwoord',
  'api key',
  'secret key',
  'client secret',
  'access token',
  'auth token',
  'bearer',
  'token',
  'secret',
  'cle api',
  'cle secrete',
  'sleutel',
];

/** Keywords after which only a long, high-entropy value counts (they are common in prose). */
const weakSecretKeywords = new Set(['token', 'secret', 'sleutel', 'bearer']);

/** Markings distinctive enough to flag in any case, anywhere on a line. */
const markingPhrases: readonly string[] = [
  'confidentiel defense',
  'secret defense',
  'tres secret defense',
  'diffusion restreinte',
  'restreint ue',
  'eu restricted',
  'confidentiel ue',
  'eu confidential',
  'secret ue',
  'eu secret',
  'tres secret ue',
  'eu top secret',
  'nato restricted',
  'nato confidential',
  'nato secret',
  'cosmic top secret',
  'beperkte verspreiding',
  'departementaal vertrouwelijk',
];

/** Markings that are ordinary words too: flagged only in upper case. */
const upperCaseMarkings: readonly string[] = ['TRES SECRET', 'TOP SECRET'];

/** Single-word markings: flagged only as an upper-case line or header standing alone. */
const isolatedMarkings: readonly string[] = [
  'CONFIDENTIEL',
  'CONFIDENTIAL',
  'SECRET',
  'RESTRICTED',
  'RESTREINT',
  'VERTROUWELIJK',
  'GEHEIM',
  'ZEER GEHEIM',
];

// ---------------------------------------------------------------------------------------------
// Patterns, compiled once.

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A keyword as a pattern: separators optional and interchangeable, whole words only. */
function keywordPattern(words: readonly string[]): string {
  const alternatives = [...words]
    .sort((a, b) => b.length - a.length)
    .map((w) =>
      w
        .split(/[ '-]+/)
        // "ID" is read "1D", "lD", and after a dash sometimes "D" alone ("Vergadering-D").
        .map((part) => (part === 'id' ? '(?:[il1|]d|(?<=-)d)' : escape(part)))
        .join("[ '-]{0,2}"),
    );
  return `(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`;
}

const all = (table: Record<string, readonly string[]>): string[] => Object.values(table).flat();

/** Between a label and its value: a parenthesis, a colon, "is", and at most one line break. */
const LABEL_TO_VALUE = '[ ]*(?:\\([^)\\n]{0,30}\\)[ ]*)?(?:(?:is|est|:|=|#|-)[ ]*){0,2}(?:\\n[ ]*)?';

/** Characters that may stand for a digit in a code: digits, O/l look-alikes, unreadable marks. */
const CODE_CHAR = '[\\p{N}OoIl|?_*•■]';

const passcodeRe = new RegExp(
  `(?<kw>${keywordPattern(all(passcodeKeywords))})${LABEL_TO_VALUE}` +
    `(?<v>[\\p{L}\\p{N}?_*•■|]{3,24}(?:[ -]${CODE_CHAR}{1,6}){0,3})(?![\\p{L}\\p{N}])`,
  'giud',
);

const meetingIdRe = new RegExp(
  `${keywordPattern(all(meetingIdKeywords))}${LABEL_TO_VALUE}` +
    `(?<v>${CODE_CHAR}{2,}(?:[ -]${CODE_CHAR}{2,}){0,5})(?![\\p{L}\\p{N}])`,
  'giud',
);

/** A phone number as printed: optional +, digits with spaces, dots, dashes, slashes, brackets. */
const PHONE = '\\+?[\\p{N}(][\\p{N} ()./-]{6,22}\\p{N}';
const PIN_TAIL = '(?:,+[\\p{N}*#]*)*';

const dialInRe = new RegExp(
  `${keywordPattern(all(dialInKeywords))}[^\\n\\p{N}+]{0,40}(?:\\n[^\\n\\p{N}+]{0,40})?` +
    `(?<v>${PHONE}${PIN_TAIL})`,
  'giud',
);

/** One-tap numbers carry the meeting and PIN: `+32 2 123 45 67,,123456789#`. */
const oneTapRe = new RegExp(`(?<![\\p{N}+])(?<v>${PHONE},+[\\p{N}*#]{3,}${PIN_TAIL})`, 'gud');

const phoneRe = new RegExp(
  `(?<![\\p{L}\\p{N}+/.-])(?<v>(?:\\+[1-9]|0)[\\p{N} ()./-]{6,22}\\p{N})(?![\\p{N}])`,
  'gud',
);

const emailRe = new RegExp(
  '(?<![\\p{L}\\p{N}._%+-])(?<v>[\\p{L}\\p{N}._%+-]{1,64}@[\\p{L}\\p{N}-]{1,63}(?:\\.[\\p{L}\\p{N}-]{1,63}){0,5}\\.\\p{L}{2,24})(?![\\p{L}\\p{N}])',
  'gud',
);

/**
 * `/m/<id>` with its 22-character id; OCR reads the m as "rn" at times, may put spaces around the
 * slashes or one inside the id (between two letters it took for two words), may read a thin
 * letter (j, f, l, t) as a bracket, a bar, an exclamation mark or (a j) a semicolon, and may lose
 * or add a character of the id (the meeting is still matched, allowing for such errors).
 */
const ID_CHAR = '[A-Za-z0-9_\\-{}()\\[\\]|!;]';
const rempartLinkRe = new RegExp(
  `/[ ]?(?:m|rn)[ ]?/[ ]?(?<v>${ID_CHAR}{20,24}(?!${ID_CHAR})|${ID_CHAR}{2,21} ${ID_CHAR}{2,21}(?!${ID_CHAR}))`,
  'dg',
);

const URL_TAIL = '[^\\s<>"\']*';
const SLASH = '[ ]?/[ ]?';
/**
 * A host name as OCR reads it off a photo: a space around a dot, a comma for a dot, and with
 * `dotsOptional` (names distinctive enough without them) a dot lost under an underline.
 */
const host = (name: string, dotsOptional = false): string =>
  name
    .split('.')
    .map(escape)
    .join(dotsOptional ? '[ ]?[.,]?[ ]?' : '[ ]?[.,][ ]?');

const meetingLinkRes: readonly { service: string; re: RegExp }[] = [
  {
    service: 'Zoom',
    // `/j/` read as `//`, `/;/` or `/i/` still leads to a meeting number.
    re: new RegExp(
      `(?:[\\w-]+[ ]?\\.[ ]?)*${host('zoom.us', true)}${SLASH}(?:(?:wc|[jwsil1|;])[ ]?)?/?[ ]?\\d${URL_TAIL}`,
      'gid',
    ),
  },
  {
    service: 'Microsoft Teams',
    re: new RegExp(
      `${host('teams')}[ ]?[.,][ ]?(?:${host('microsoft.com')}${SLASH}l${SLASH}meetup-join|${host('live.com')}${SLASH}meet)${SLASH}[^\\s]${URL_TAIL}`,
      'gid',
    ),
  },
  {
    service: 'Webex',
    re: new RegExp(
      `[\\w-]+[ ]?[.,][ ]?${host('webex.com')}${SLASH}(?:meet${SLASH}[^\\s]|(?:[\\w.-]+${SLASH})*j[ ]?[.,][ ]?php[ ]?\\?[ ]?mtid[ ]?=)${URL_TAIL}`,
      'gid',
    ),
  },
  { service: 'Jitsi', re: new RegExp(`${host('meet.jit.si', true)}${SLASH}[\\w-]${URL_TAIL}`, 'gid') },
  {
    service: 'Google Meet',
    re: new RegExp(`${host('meet.google.com')}${SLASH}[a-z]{3}-[a-z]{4}-[a-z]{3}(?![a-z])${URL_TAIL}`, 'gid'),
  },
  {
    // A Meet code (abc-defg-hij) is distinctive enough on its own once "meet" is written before
    // it, as when the host name came out garbled.
    service: 'Google Meet',
    re: /(?<=meet[^\n]{0,30}?)(?<![a-z-])[a-z]{3}-[a-z]{4}-[a-z]{3}(?![a-z-])/dgi,
  },
];

const tokenRes: readonly { what: string; re: RegExp }[] = [
  { what: 'an AWS access key', re: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/dg },
  { what: 'a GitHub token', re: /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})/dg },
  { what: 'a Slack token', re: /(?<![\w])xox[bpars]-[A-Za-z0-9-]{10,}/dg },
  { what: 'a JSON Web Token', re: /(?<![\w])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{5,}/dg },
  { what: 'a private key', re: /-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----/dg },
];

const secretRe = new RegExp(
  `(?<kw>${keywordPattern(secretKeywords)})(?<sep>[ ]*(?:(?:is|est|:|=)[ ]*){1,2})(?:\\n[ ]*)?(?<v>[^\\s]{4,200})`,
  'giud',
);

const markingPhraseRe = new RegExp(keywordPattern(markingPhrases), 'giud');
const upperMarkingRe = new RegExp(keywordPattern(upperCaseMarkings), 'gud');
const isolatedMarkingRe = new RegExp(
  `^[^\\p{L}\\p{N}\\n]*(?<v>${isolatedMarkings.map(escape).join('|').replace(/ /g, '[ ]{1,2}')})[^\\p{L}\\p{N}\\n]*$`,
  'gmud',
);

// ---------------------------------------------------------------------------------------------
// The joined text and its map back to words.

interface Page {
  /** The normalised text: accents removed, typographic quotes and dashes made plain. */
  text: string;
  /** For each character of `text`, the index of the word it comes from, or -1 for a separator. */
  owner: number[];
  words: { ref: WordRef; word: OcrWord }[];
}

function normaliseChar(c: string): string {
  if (c === '\u2019' || c === '\u2018' || c === '`' || c === '\u00b4') return "'";
  if (c === '\u2013' || c === '\u2014' || c === '\u2010' || c === '\u2011') return '-';
  if (c === '\n' || c === '\r') return ' ';
  return c.normalize('NFD').replace(/\p{M}/gu, '');
}

function buildPage(lines: readonly OcrLine[]): Page {
  let text = '';
  const owner: number[] = [];
  const words: Page['words'] = [];
  lines.forEach((line, l) => {
    if (l > 0) {
      text += '\n';
      owner.push(-1);
    }
    line.words.forEach((word, w) => {
      if (w > 0) {
        text += ' ';
        owner.push(-1);
      }
      const index = words.length;
      words.push({ ref: { line: l, word: w }, word });
      for (const c of word.text) {
        const n = normaliseChar(c);
        text += n;
        for (let i = 0; i < n.length; i++) owner.push(index);
      }
    });
  });
  return { text, owner, words };
}

function union(boxes: readonly Box[]): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const b of boxes) {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width);
    y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

interface Candidate {
  kind: FindingKind;
  start: number;
  end: number;
  reason: string;
  severity: Severity;
  details?: Finding['details'];
}

/** The span of the named group `v` if present, else of the whole match. */
function valueSpan(m: RegExpMatchArray): [number, number] | undefined {
  const span = m.indices?.groups?.['v'] ?? m.indices?.[0];
  return span ? [span[0], span[1]] : undefined;
}

function* matches(re: RegExp, text: string): Generator<{ m: RegExpMatchArray; span: [number, number] }> {
  for (const m of text.matchAll(re)) {
    const span = valueSpan(m);
    if (span && span[1] > span[0]) yield { m, span };
  }
}

// ---------------------------------------------------------------------------------------------
// Value checks.

const countOf = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;

/** Undo the usual OCR confusions inside a digit run and drop separators. */
function codeDigits(value: string): string {
  return value.replace(/[ -]/g, '').replace(/[Oo]/g, '0').replace(/[Il|]/g, '1');
}

const looksLikeDate = (v: string): boolean => /^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}$/.test(v.replace(/ /g, ''));

/**
 * Whether a value after a code keyword is a code: digits (some may be unreadable or confused with
 * letters, as a partly hidden code still helps an intruder) or a mixed letters-and-digits passcode.
 */
function isCode(value: string): boolean {
  if (looksLikeDate(value)) return false;
  const compact = value.replace(/[ -]/g, '');
  const digits = countOf(compact, /\p{N}/gu);
  const lookAlikes = countOf(compact, /[OoIl|]/g);
  const unreadable = countOf(compact, /[?_*•■]/g);
  const letters = countOf(compact, /\p{L}/gu);
  if (digits >= 2 && digits + lookAlikes + unreadable === compact.length) {
    return compact.length >= 3 && digits >= compact.length / 2;
  }
  // A mixed passcode (Zoom, Webex): letters and digits, no separators.
  return (
    !/[ -]/.test(value) &&
    compact.length >= 5 &&
    digits >= 1 &&
    letters >= 1 &&
    digits + letters === compact.length
  );
}

function isDigitCode(value: string): boolean {
  const compact = value.replace(/[ -]/g, '');
  return countOf(compact, /\p{N}/gu) >= 2 && /^[\p{N}OoIl|?_*•■]+$/u.test(compact);
}

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function looksLikeToken(value: string): boolean {
  const classes =
    Number(/[a-z]/.test(value)) +
    Number(/[A-Z]/.test(value)) +
    Number(/[0-9]/.test(value)) +
    Number(/[^A-Za-z0-9]/.test(value));
  return value.length >= 16 && classes >= 2 && entropy(value) >= 3.5;
}

const digitCount = (s: string): number => countOf(s, /\p{N}/gu);

// ---------------------------------------------------------------------------------------------
// Detectors. Each yields candidates over the page text.

function* rempartLinks(text: string): Generator<Candidate> {
  for (const { m, span } of matches(rempartLinkRe, text)) {
    const linkId = (m.groups?.['v'] ?? '').replace(' ', '');
    if (linkId.length < 20 || linkId.length > 24) continue; // two words, not an id cut in two
    // The finding covers the words of the whole link, host included, not only the id.
    yield {
      kind: 'rempart_meeting_link',
      start: m.indices?.[0]?.[0] ?? span[0],
      end: span[1],
      reason: 'The image shows a Rempart meeting link; anyone who sees it may try to join.',
      severity: 'high',
      details: { linkId },
    };
  }
}

function* meetingLinks(text: string): Generator<Candidate> {
  for (const { service, re } of meetingLinkRes) {
    for (const { span } of matches(re, text)) {
      const value = text.slice(span[0], span[1]);
      const withPassword = /[?&]pwd=/i.test(value);
      yield {
        kind: 'meeting_link',
        start: span[0],
        end: span[1],
        reason: withPassword
          ? `The image shows a ${service} meeting link with its password.`
          : `The image shows a ${service} meeting link; anyone who sees it may try to join.`,
        severity: 'high',
      };
    }
  }
}

function* meetingIds(text: string): Generator<Candidate> {
  for (const { span } of matches(meetingIdRe, text)) {
    const value = text.slice(span[0], span[1]);
    const digits = digitCount(value);
    if (digits < 6 || codeDigits(value).length > 14 || looksLikeDate(value)) continue;
    yield {
      kind: 'meeting_id',
      start: span[0],
      end: span[1],
      reason: 'The image shows a meeting ID, which lets anyone find the meeting.',
      severity: 'high',
      details: { digits: codeDigits(value) },
    };
  }
}

function* passcodes(text: string): Generator<Candidate> {
  for (const { m, span } of matches(passcodeRe, text)) {
    const value = text.slice(span[0], span[1]);
    if (!isCode(value)) continue;
    const keyword = (m.groups?.['kw'] ?? '').toLowerCase();
    // After "code" alone (a common word), require a digit code, not any mix of letters and digits.
    if (/^code$/.test(keyword) && !isDigitCode(value)) continue;
    const digitsOnly = isDigitCode(value);
    const partial = digitsOnly && /[?_*•■]/.test(value);
    yield {
      kind: 'passcode',
      start: span[0],
      end: span[1],
      reason: partial
        ? 'The image shows part of a meeting code; even a partial code narrows the guess.'
        : 'The image shows a meeting passcode or PIN.',
      severity: 'high',
      ...(digitsOnly ? { details: { digits: codeDigits(value) } } : {}),
    };
  }
}

function* dialIns(text: string): Generator<Candidate> {
  for (const re of [dialInRe, oneTapRe]) {
    for (const { span } of matches(re, text)) {
      const value = text.slice(span[0], span[1]);
      const number = value.split(',')[0] ?? '';
      const digits = digitCount(number);
      if (digits < 8 || digits > 15) continue;
      const withPin = /,\s*[\p{N}*#]{3,}/u.test(value);
      yield {
        kind: 'dial_in',
        start: span[0],
        end: span[1],
        reason: withPin
          ? 'The image shows a dial-in number with its conference code.'
          : 'The image shows a meeting dial-in number.',
        severity: withPin ? 'high' : 'medium',
      };
    }
  }
}

function* secrets(text: string): Generator<Candidate> {
  for (const { what, re } of tokenRes) {
    for (const { span } of matches(re, text)) {
      yield {
        kind: 'secret',
        start: span[0],
        end: span[1],
        reason: `The image shows what looks like ${what}.`,
        severity: 'high',
      };
    }
  }
  for (const { m, span } of matches(secretRe, text)) {
    const keyword = (m.groups?.['kw'] ?? '').toLowerCase().replace(/[ '-]+/g, ' ');
    // Trailing punctuation belongs to the sentence, not to the secret.
    const raw = text.slice(span[0], span[1]);
    const value = raw.replace(/[.,;)]+$/, '');
    if (value.length < 4) continue;
    // Short codes after "password" are meeting passcodes, found by the passcode detector.
    if (isDigitCode(value)) continue;
    if (weakSecretKeywords.has(keyword) && !looksLikeToken(value)) continue;
    // Without a colon ("the password is secret") only a value that is not a plain word counts.
    if (!/[:=]/.test(m.groups?.['sep'] ?? '') && /^\p{L}+$/u.test(value)) continue;
    // A masked value ("********") gives nothing away.
    if (/^[*•.]+$/u.test(value)) continue;
    yield {
      kind: 'secret',
      start: span[0],
      end: span[0] + value.length,
      reason: 'The image shows a password or key next to its label.',
      severity: 'high',
    };
  }
}

function* emails(text: string): Generator<Candidate> {
  for (const { span } of matches(emailRe, text)) {
    yield {
      kind: 'email',
      start: span[0],
      end: span[1],
      reason: 'The image shows an email address.',
      severity: 'low',
    };
  }
}

function* phones(text: string): Generator<Candidate> {
  for (const { span } of matches(phoneRe, text)) {
    const value = text.slice(span[0], span[1]).trim();
    const digits = digitCount(value);
    const international = value.startsWith('+');
    // E.164 allows at most 15 digits (ITU-T E.164 §6); Belgian, French and Dutch national numbers
    // have 9 or 10 digits including the leading 0.
    if (international ? digits < 8 || digits > 15 : digits < 9 || digits > 10) continue;
    if (/^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}/.test(value)) continue;
    if (/[()./-]{2}|\( |\)\(/.test(value)) continue;
    yield {
      kind: 'phone',
      start: span[0],
      end: span[1],
      reason: 'The image shows a phone number.',
      severity: 'medium',
    };
  }
}

function* markings(text: string): Generator<Candidate> {
  const reason = 'The image shows a classification marking; the document may not be shared.';
  for (const re of [markingPhraseRe, upperMarkingRe, isolatedMarkingRe]) {
    for (const { span } of matches(re, text)) {
      yield {
        kind: 'classification_marking',
        start: span[0],
        end: span[1],
        reason,
        severity: 'high',
      };
    }
  }
}

/**
 * Which finding wins when two cover the same characters: the more specific kind. A dial-in number
 * is not also reported as a phone, nor a link's password as a passcode.
 */
const precedence: readonly FindingKind[] = [
  'rempart_meeting_link',
  'meeting_link',
  'secret',
  'dial_in',
  'meeting_id',
  'passcode',
  'classification_marking',
  'email',
  'phone',
];

const detectors: readonly ((text: string) => Iterable<Candidate>)[] = [
  rempartLinks,
  meetingLinks,
  secrets,
  dialIns,
  meetingIds,
  passcodes,
  markings,
  emails,
  phones,
];

/** Widen a candidate to whole words, so that two candidates clash when they share a word. */
function toWordBounds(page: Page, c: Candidate): Candidate {
  let { start, end } = c;
  const first = page.owner[start];
  const last = page.owner[end - 1];
  if (first !== undefined && first >= 0) {
    while (start > 0 && page.owner[start - 1] === first) start--;
  }
  if (last !== undefined && last >= 0) {
    while (end < page.owner.length && page.owner[end] === last) end++;
  }
  return { ...c, start, end };
}

function overlaps(a: Candidate, b: Candidate): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * Find what the text of an image gives away.
 *
 * @example
 * const findings = detectLeaks([{ words: [word('Passcode:'), word('381204')] }]);
 * // [{ kind: 'passcode', text: '381204', severity: 'high', … }]
 */
export function detectLeaks(lines: readonly OcrLine[]): Finding[] {
  const page = buildPage(lines);
  const rank = (k: FindingKind): number => precedence.indexOf(k);
  const candidates = detectors
    .flatMap((detect) => [...detect(page.text)])
    .map((c) => toWordBounds(page, c))
    .sort((a, b) => rank(a.kind) - rank(b.kind) || a.start - b.start || b.end - a.end);

  const kept: Candidate[] = [];
  for (const c of candidates) {
    const clash = kept.find((k) => overlaps(k, c));
    // Two findings of one kind sharing characters ("CONFIDENTIEL UE/EU CONFIDENTIAL") become one.
    if (clash?.kind === c.kind) clash.end = Math.max(clash.end, c.end);
    else if (!clash) kept.push(c);
  }

  const findings: Finding[] = [];
  for (const c of kept.sort((a, b) => a.start - b.start || rank(a.kind) - rank(b.kind))) {
    const indices = new Set<number>();
    for (let i = c.start; i < c.end; i++) {
      const o = page.owner[i];
      if (o !== undefined && o >= 0) indices.add(o);
    }
    const covered = [...indices].sort((a, b) => a - b).flatMap((i) => page.words[i] ?? []);
    if (covered.length === 0) continue;
    findings.push({
      kind: c.kind,
      text: covered.map((w) => w.word.text).join(' '),
      box: union(covered.map((w) => w.word.box)),
      reason: c.reason,
      severity: c.severity,
      words: covered.map((w) => w.ref),
      ...(c.details ? { details: c.details } : {}),
    });
  }
  return findings;
}
