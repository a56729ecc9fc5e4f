import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectLeaks, type Box, type Finding, type FindingKind, type OcrLine } from './detectors.js';

/** OCR lines from text: one line per text line, one word per space, 10 px per character. */
function ocr(text: string): OcrLine[] {
  return text.split('\n').map((line, l) => {
    let x = 0;
    return {
      words: line
        .split(' ')
        .filter((w) => w.length > 0)
        .map((w) => {
          const word = { text: w, box: { x, y: l * 20, width: w.length * 10, height: 15 }, confidence: 90 };
          x += (w.length + 1) * 10;
          return word;
        }),
    };
  });
}

const detect = (text: string): Finding[] => detectLeaks(ocr(text));
const kinds = (text: string): FindingKind[] => detect(text).map((f) => f.kind);
const found = (text: string, kind: FindingKind): Finding | undefined =>
  detect(text).find((f) => f.kind === kind);

describe('leak check text detectors', () => {
  describe('finds meeting credentials', () => {
    it.each([
      ['EN', 'Meeting ID: 845 2913 0076', '845 2913 0076'],
      ['EN, Teams', 'Conference ID: 123 456 789#', '123 456 789#'],
      ['EN, Webex', 'Meeting number (access code): 2345 678 9012', '2345 678 9012'],
      ['FR', 'ID de réunion : 845 2913 0076', '845 2913 0076'],
      ['FR', 'Identifiant de la réunion: 845-2913-0076', '845-2913-0076'],
      ['NL', 'Vergadering-ID: 845 2913 0076', '845 2913 0076'],
      ['OCR noise', 'MEETING ID: 845 29l3 OO76', '845 29l3 OO76'],
    ])('a meeting ID (%s): %s', (_lang, text, value) => {
      const f = found(text, 'meeting_id');
      expect(f?.text).toBe(value);
      expect(f?.severity).toBe('high');
      expect(f?.details?.digits).toMatch(/^\d+#?$/);
    });

    it.each([
      ['EN', 'Passcode: 381204', '381204'],
      ['EN', 'PIN 381204', '381204'],
      ['EN, mixed', 'Passcode: aB3xY9', 'aB3xY9'],
      ['EN, password', 'Meeting password: 774201', '774201'],
      ['FR', 'Code secret : 4821', '4821'],
      ['FR', 'Code d’accès: 381 204', '381 204'],
      ['FR', 'Mot de passe : 774201', '774201'],
      ['NL', 'Toegangscode: 381204', '381204'],
      ['NL', 'Pincode 381204', '381204'],
      ['NL', 'Wachtwoord: 774201', '774201'],
      ['next line', 'Passcode:\n381204', '381204'],
      ['O/0 and l/1', 'PIN: 38l2O4', '38l2O4'],
    ])('a passcode (%s): %s', (_lang, text, value) => {
      const f = found(text, 'passcode');
      expect(f?.text).toBe(value);
      expect(f?.severity).toBe('high');
    });

    it.each([
      ['five of six digits', 'PIN: 38217'],
      ['an unreadable digit', 'Passcode: 38?174'],
      ['a masked end', 'Code: 3821__'],
    ])('a partial code (%s)', (_what, text) => {
      expect(kinds(text)).toEqual(['passcode']);
    });

    it('reads O and l as digits inside a code', () => {
      expect(found('PIN: 38l2O4', 'passcode')?.details?.digits).toBe('381204');
    });

    it('finds the 2020 incident: a meeting ID and five of six PIN digits', () => {
      const findings = detect(
        'Weekly crisis cell\nMeeting ID: 845 2913 0076\nPIN: 38217\nJoin from your browser',
      );
      expect(findings.map((f) => [f.kind, f.text])).toEqual([
        ['meeting_id', '845 2913 0076'],
        ['passcode', '38217'],
      ]);
      expect(findings.every((f) => f.severity === 'high')).toBe(true);
    });

    it.each([
      ['EN', 'Dial-in: +32 2 123 45 67', 'medium'],
      ['EN, one tap', '+32 2 123 45 67,,845291300#', 'high'],
      ['FR', "Numéro d'appel : +33 1 70 37 22 46,,123456#", 'high'],
      ['NL', 'Inbellen: 02 123 45 67', 'medium'],
    ])('a dial-in number (%s): %s', (_lang, text, severity) => {
      const f = found(text, 'dial_in');
      expect(f?.severity).toBe(severity);
      expect(kinds(text)).toEqual(['dial_in']);
    });
  });

  describe('finds meeting links', () => {
    it('takes the id out of a Rempart meeting link, on any host', () => {
      const f = found('Join: https://rempart.example.gov/m/AbCdEfGhIjKlMnOpQrSt_-', 'rempart_meeting_link');
      expect(f?.details?.linkId).toBe('AbCdEfGhIjKlMnOpQrSt_-');
      expect(f?.text).toBe('https://rempart.example.gov/m/AbCdEfGhIjKlMnOpQrSt_-');
    });

    it('ignores a /m/ path whose id is not 22 characters', () => {
      expect(kinds('https://example.org/m/short')).toEqual([]);
      expect(kinds('https://example.org/m/short words')).toEqual([]);
    });

    it('joins an id OCR cut in two, and leaves the word after a whole id out', () => {
      const cut = found(
        'Rejoindre : http://127.0.0.1:8080/m/dleY MMsq-WtXfXBEFZRGMw',
        'rempart_meeting_link',
      );
      expect(cut?.details?.linkId).toBe('dleYMMsq-WtXfXBEFZRGMw');
      const bracket = found(
        'Rejoindre : http://127.0.0.1:8080/m/Le3{TQTi7ISFalnKaZgFhA',
        'rempart_meeting_link',
      );
      expect(bracket?.details?.linkId).toBe('Le3{TQTi7ISFalnKaZgFhA');
      const semicolon = found(
        'Rejoindre : http://127.0.0.1:41234/m/x42;BmmQOPUoS9VI-AT7KA',
        'rempart_meeting_link',
      );
      expect(semicolon?.details?.linkId).toBe('x42;BmmQOPUoS9VI-AT7KA');
      const whole = found(
        'Lien : https://rempart.example.gov/m/AbCdEfGhIjKlMnOpQrSt_- puis le code',
        'rempart_meeting_link',
      );
      expect(whole?.details?.linkId).toBe('AbCdEfGhIjKlMnOpQrSt_-');
      expect(whole?.text).toBe('https://rempart.example.gov/m/AbCdEfGhIjKlMnOpQrSt_-');
    });

    it.each([
      ['Zoom', 'https://us02web.zoom.us/j/84529130076?pwd=QWxhZGRpbjpvcGVu'],
      ['Teams', 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0'],
      ['Teams live', 'https://teams.live.com/meet/9876543210'],
      ['Webex', 'https://acme.webex.com/meet/jdupont'],
      ['Webex j.php', 'https://acme.webex.com/acme/j.php?MTID=m1234abcd'],
      ['Jitsi', 'https://meet.jit.si/CrisisCellWeekly'],
      ['Google Meet', 'meet.google.com/abc-defg-hij'],
    ])('%s', (_service, link) => {
      expect(detect(`Rejoindre : ${link}`).map((f) => [f.kind, f.text])).toEqual([['meeting_link', link]]);
    });

    it.each([
      ['Zoom, spaces around the dots', 'https://us04web. zoom. us/j/84529130076', 'meeting_link'],
      ['Zoom, /j/ read as //', 'https://us06web.zoom.us//84529130076?pwd=QWxhZGRp', 'meeting_link'],
      ['Zoom, /j/ read as /;/', 'https://us06web.zoom.us/;/84529130076', 'meeting_link'],
      ['Meet, a space before the dot', 'meet .google.com/abc-defg-hij', 'meeting_link'],
      ['Meet, host garbled, code intact', 'Lieu: meet.g ) m/jxn-pbbc-yfz', 'meeting_link'],
      ['Jitsi, a dot lost under an underline', 'https://meetjit.si/CrisisCellWeekly', 'meeting_link'],
      [
        'Rempart, m read as rn',
        'https://rempart.example.gov/rn/AbCdEfGhIjKlMnOpQrSt_-',
        'rempart_meeting_link',
      ],
      [
        'Rempart, a character of the id lost',
        'https://rempart.example.gov/m/AbCdEfGhIjKlMnOpQrSt_',
        'rempart_meeting_link',
      ],
    ])('reads a link as OCR mangles it: %s', (_case, text, kind) => {
      expect(kinds(text)).toEqual([kind]);
    });

    it('reads "1D" for "ID" before a meeting ID', () => {
      expect(found('1D de la réunion : 887 870 940 625', 'meeting_id')?.details?.digits).toBe('887870940625');
    });

    it('reads "D" for "ID" after a dash, as in "Vergadering-D"', () => {
      expect(found('Vergadering-D: 982 9267 4694', 'meeting_id')?.details?.digits).toBe('98292674694');
      expect(found('Vergadering D 982 9267 4694', 'meeting_id')).toBeUndefined();
    });

    it('leaves a Meet-shaped code alone when nothing says "meet"', () => {
      expect(kinds('Référence: abc-defg-hij')).toEqual([]);
    });

    it('says when a Zoom link carries its password', () => {
      expect(found('zoom.us/j/84529130076?pwd=abc123', 'meeting_link')?.reason).toMatch(/password/);
    });
  });

  describe('finds secrets', () => {
    it.each([
      ['password', 'password: Tr0ub4dor&3', 'Tr0ub4dor&3'],
      ['mot de passe', 'Mot de passe : Soleil!2026', 'Soleil!2026'],
      ['wachtwoord', 'wachtwoord=Zomer2026!', 'wachtwoord=Zomer2026!'],
      ['AWS key', 'key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
      [
        'GitHub token',
        'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
        'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
      ],
      ['Slack token', 'xoxb-123456789012-abcdefGHIJKL', 'xoxb-123456789012-abcdefGHIJKL'],
      [
        'JWT',
        'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r',
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r',
      ],
      ['token near its label', 'token: 9fK2xQ7mLp4ZsT8vR1wY', '9fK2xQ7mLp4ZsT8vR1wY'],
    ])('%s', (_what, text, value) => {
      const f = found(text, 'secret');
      expect(f?.text).toBe(value);
      expect(f?.severity).toBe('high');
    });

    it('does not report a masked password', () => {
      expect(kinds('Password: ********')).toEqual([]);
    });
  });

  describe('finds contact details', () => {
    it.each([
      [
        'an email address',
        'Contact: jean.dupont@interieur.gouv.fr',
        'email',
        'jean.dupont@interieur.gouv.fr',
      ],
      ['an E.164 number', 'Tel. +32 2 501 23 45', 'phone', '+32 2 501 23 45'],
      ['a Belgian number', 'Tél. 02/501 23 45', 'phone', '02/501 23 45'],
      ['a Belgian mobile', 'GSM 0475 12 34 56', 'phone', '0475 12 34 56'],
      ['a French number', 'Tél : 01 42 75 80 00', 'phone', '01 42 75 80 00'],
      ['a Dutch mobile', 'Mobiel: 06-12345678', 'phone', '06-12345678'],
    ])('%s', (_what, text, kind, value) => {
      expect(detect(text).map((f) => [f.kind, f.text])).toEqual([[kind, value]]);
    });

    it('rates an email address low and a phone number medium', () => {
      expect(found('a@b.be', 'email')?.severity).toBe('low');
      expect(found('+32 2 501 23 45', 'phone')?.severity).toBe('medium');
    });
  });

  describe('finds classification markings', () => {
    it.each([
      ['CONFIDENTIEL DÉFENSE', 'CONFIDENTIEL DÉFENSE'],
      ['Document SECRET DÉFENSE - page 2', 'SECRET DÉFENSE'],
      ['TRÈS SECRET', 'TRÈS SECRET'],
      ['Diffusion restreinte', 'Diffusion restreinte'],
      ['RESTREINT UE / EU RESTRICTED', 'RESTREINT UE'],
      ['CONFIDENTIEL UE/EU CONFIDENTIAL', 'CONFIDENTIEL UE/EU CONFIDENTIAL'],
      ['NATO RESTRICTED', 'NATO RESTRICTED'],
      ['COSMIC TOP SECRET', 'COSMIC TOP SECRET'],
      ['BEPERKTE VERSPREIDING', 'BEPERKTE VERSPREIDING'],
      ['— VERTROUWELIJK —', 'VERTROUWELIJK'],
      ['GEHEIM', 'GEHEIM'],
      ['Agenda\nSECRET\nItem 1', 'SECRET'],
    ])('%s', (text, first) => {
      const f = detect(text).filter((x) => x.kind === 'classification_marking');
      expect(f[0]?.text).toBe(first);
      expect(f[0]?.severity).toBe('high');
    });
  });

  describe('stays quiet on ordinary text', () => {
    it.each([
      [
        'an email body',
        'Hello all,\nPlease find attached the minutes of Tuesday.\nThe next meeting is on 12/03/2026 at 14:30.\nBest regards',
      ],
      ['a calendar entry without credentials', 'Weekly sync\nThursday 09:30 - 10:00\nRoom 4.12, building B'],
      ['dates, times and prices', 'Le 01/02/2026 à 10h30, prix 1 234,56 €, total 2 469,12 EUR'],
      ['a Dutch date and price', 'Op 03-04-2026 om 14.00 uur, prijs € 12,50'],
      ['the word secret in prose', 'The secret of a good meeting is a clear agenda.'],
      ['a French prose secret', 'Ce projet reste secret pour le moment.'],
      ['a code keyword in prose', 'Le code secret vous sera communiqué par SMS.'],
      ['a password in prose', 'Your password is personal, never share it.'],
      ['source code', 'See the code review notes.'],
      ['a postal code', 'Code postal : 1000 Bruxelles'],
      ['a meeting number in prose', 'The meeting ID will follow by email.'],
      ['a year count', 'In 2020, 1 450 agents joined 12 345 meetings.'],
    ])('%s', (_what, text) => {
      expect(detect(text)).toEqual([]);
    });
  });

  describe('maps findings to word boxes', () => {
    it('covers exactly the words of a code split across words', () => {
      const lines = ocr('Meeting ID: 845 2913 0076 today');
      const f = detectLeaks(lines).find((x) => x.kind === 'meeting_id');
      const words = lines[0]?.words ?? [];
      expect(f?.words).toEqual([
        { line: 0, word: 2 },
        { line: 0, word: 3 },
        { line: 0, word: 4 },
      ]);
      const [first, , last] = [words[2], words[3], words[4]];
      expect(f?.box).toEqual({
        x: first?.box.x,
        y: 0,
        width: (last?.box.x ?? 0) + (last?.box.width ?? 0) - (first?.box.x ?? 0),
        height: 15,
      });
    });

    it('covers a value on the line after its label, and not the label', () => {
      const lines = ocr('Passcode:\n381204');
      const f = detectLeaks(lines)[0];
      expect(f?.words).toEqual([{ line: 1, word: 0 }]);
      expect(f?.box).toEqual(lines[1]?.words[0]?.box);
    });

    it('takes the union of boxes of uneven words', () => {
      const lines: OcrLine[] = [
        {
          words: [
            { text: 'PIN:', box: { x: 0, y: 0, width: 30, height: 10 }, confidence: 95 },
            { text: '381', box: { x: 40, y: 2, width: 25, height: 12 }, confidence: 80 },
            { text: '204', box: { x: 70, y: -1, width: 20, height: 10 }, confidence: 60 },
          ],
        },
      ];
      expect(detectLeaks(lines)[0]?.box).toEqual({ x: 40, y: -1, width: 50, height: 15 });
    });
  });

  describe('on any OCR output', () => {
    const num = fc.double({ min: -1e4, max: 1e4, noNaN: true });
    const size = fc.double({ min: 0, max: 1e3, noNaN: true });
    const text = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        'PIN:',
        'Meeting',
        'ID:',
        '845',
        '2913',
        '0076',
        '+32',
        '2',
        '123',
        '45',
        '67,,123456#',
        'SECRET',
        'password:',
        'a@b.be',
        'zoom.us/j/123?pwd=x',
        'Code',
        "d'accès",
        '38?17',
      ),
    );
    const word = fc.record({
      text,
      box: fc.record({ x: num, y: num, width: size, height: size }),
      confidence: fc.double({ min: 0, max: 100, noNaN: true }),
    });
    const lines = fc.array(fc.record({ words: fc.array(word, { maxLength: 8 }) }), { maxLength: 6 });

    const within = (inner: Box, outer: Box): boolean =>
      inner.x >= outer.x &&
      inner.y >= outer.y &&
      inner.x + inner.width <= outer.x + outer.width + 1e-6 &&
      inner.y + inner.height <= outer.y + outer.height + 1e-6;

    it('never throws, keeps every box within the words, and gives the same answer twice', () => {
      fc.assert(
        fc.property(lines, (input) => {
          const findings = detectLeaks(input);
          const all = input.flatMap((l) => l.words.map((w) => w.box));
          for (const f of findings) {
            const covered = f.words.map((r) => input[r.line]?.words[r.word]?.box);
            expect(covered.every((b) => b !== undefined && within(b, f.box))).toBe(true);
            const inputUnion = all.reduce((u, b) => ({
              x: Math.min(u.x, b.x),
              y: Math.min(u.y, b.y),
              width: Math.max(u.x + u.width, b.x + b.width) - Math.min(u.x, b.x),
              height: Math.max(u.y + u.height, b.y + b.height) - Math.min(u.y, b.y),
            }));
            expect(within(f.box, inputUnion)).toBe(true);
          }
          expect(detectLeaks(input)).toEqual(findings);
        }),
        { numRuns: 300 },
      );
    });
  });
});
