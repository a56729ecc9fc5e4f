/**
 * The leak check page, from the file an agent hands over to what the page shows: the fetch at
 * the API boundary is the only thing replaced; each state the check goes through is rendered
 * with the page's own components.
 */
import type { LeakCheckResult, SessionState } from '@rempart/core';
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rememberSession } from '../api';
import { LeakCheckView } from '../components/leakcheck/leak-check-view';
import { LeakImage } from '../components/leakcheck/leak-image';
import type { RedactedDownload } from '../components/leakcheck/leak-report';
import { I18nContext, translate, type I18n, type Language } from '../i18n';
import { runLeakCheck, type LeakCheckState } from '../leakcheck/check';
import { arrangeFindings } from '../leakcheck/findings';
import { redactedFile } from '../leakcheck/image';

// ---- what the server answers ----

const redactedBytes = [0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0xff, 0xd9];

const invitation: LeakCheckResult = {
  image: { format: 'jpeg', width: 1280, height: 720, bytes: 245_760 },
  findings: [
    {
      kind: 'passcode',
      source: 'text',
      text: 'Passcode: 482913',
      box: { x: 640, y: 360, width: 320, height: 36 },
      reason: 'Anyone who reads this code can join the meeting.',
      severity: 'high',
    },
    {
      kind: 'email',
      source: 'text',
      text: 'claire.martin@example.org',
      box: { x: 64, y: 600, width: 300, height: 30 },
      reason: 'An email address lets anyone write to this person.',
      severity: 'low',
    },
    {
      kind: 'rempart_meeting_link',
      source: 'qr_code',
      text: 'https://rempart.example.org/m/AbCdEfGhIjKlMnOpQrStU_',
      box: { x: 64, y: 72, width: 512, height: 40 },
      reason: 'This link opens a Rempart meeting.',
      severity: 'high',
      meeting: { id: '3d5f2a9e-8b7c-4d6e-9f10-a1b2c3d4e5f6', title: 'Defence council', rotated: true },
    },
    {
      kind: 'gps_position',
      source: 'metadata',
      text: 'GPS: 50.8466, 4.3528',
      box: null,
      reason: 'The place where the photo was taken.',
      severity: 'medium',
    },
    {
      kind: 'device',
      source: 'metadata',
      text: 'Model: Pixel 8',
      box: null,
      reason: 'The phone that took the photo.',
      severity: 'low',
    },
  ],
  redacted: { mediaType: 'image/jpeg', base64: btoa(String.fromCharCode(...redactedBytes)) },
  elapsedMs: 2340,
};

const nothing: LeakCheckResult = {
  image: { format: 'png', width: 800, height: 600, bytes: 40_000 },
  findings: [],
  redacted: { mediaType: 'image/png', base64: 'iVBORw0KGgo=' },
  elapsedMs: 800,
};

const jsonAnswer = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const fetchMock = vi.fn<typeof fetch>();

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  rememberSession({ authenticated: false });
});

// ---- the agent's side ----

const MB = 1024 * 1024;
const photo = (name = 'invitation.jpg', type = 'image/jpeg', size = 64): File =>
  new File([new Uint8Array(size).fill(0xab)], name, { type });

/** Hands `file` to the page's check and returns every state the page was shown. */
async function check(file: File): Promise<LeakCheckState[]> {
  const states: LeakCheckState[] = [];
  await runLeakCheck(file, (state) => states.push(state));
  return states;
}

async function checked(file: File, answer: LeakCheckResult): Promise<LeakCheckState> {
  fetchMock.mockResolvedValueOnce(jsonAnswer(200, answer));
  const states = await check(file);
  expect(states.map((state) => state.phase)).toEqual(['checking', 'checked']);
  return states[1]!;
}

function i18n(language: Language): I18n {
  return {
    language,
    setLanguage: () => undefined,
    t: (key, params) => translate(language, key, params),
    formatDateTime: (iso) => iso,
    formatTime: (iso) => iso,
    formatNumber: (value) => new Intl.NumberFormat(language).format(value),
  };
}

function render(element: ReactElement, language: Language = 'en'): string {
  return renderToStaticMarkup(createElement(I18nContext, { value: i18n(language) }, element));
}

const originalSrc = 'data:image/jpeg;base64,/9j/4AAQ';

function renderPage(
  state: LeakCheckState,
  options: { download?: RedactedDownload; language?: Language } = {},
): string {
  return render(
    createElement(LeakCheckView, {
      state,
      originalSrc,
      download: options.download,
      onImage: () => undefined,
    }),
    options.language,
  );
}

// ---- reading the markup ----

type Attributes = Record<string, string>;

const decode = (text: string): string =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function attributes(source: string): Attributes {
  return Object.fromEntries([...source.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1]!, decode(m[2]!)]));
}

/** The opening tags of every `tag` whose attributes include `having`. */
function tags(html: string, tag: string, having: Attributes = {}): Attributes[] {
  return [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))]
    .map((m) => attributes(m[1]!))
    .filter((found) => Object.entries(having).every(([name, value]) => found[name] === value));
}

/** The text of the element that opens with `<tag` and carries `marker` in its opening tag. */
function textOf(html: string, tag: string, marker: string): string {
  const start = html.search(new RegExp(`<${tag}\\b[^>]*${marker}[^>]*>`));
  expect(start, `no <${tag} ${marker}>`).toBeGreaterThanOrEqual(0);
  let depth = 0;
  const pattern = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  pattern.lastIndex = start;
  for (let m = pattern.exec(html); m; m = pattern.exec(html)) {
    depth += m[1] === '/' ? -1 : 1;
    if (depth === 0)
      return decode(html.slice(start, m.index).replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim();
  }
  throw new Error(`<${tag} ${marker}> is not closed`);
}

const alertText = (html: string): string => textOf(html, 'div', 'role="alert"');
const statusText = (html: string): string => textOf(html, 'div', 'role="status"');

// ---- the tests ----

describe('handing over an image', () => {
  it('sends the image’s own bytes, typed, with the anti-forgery token, and asks for the redacted copy', async () => {
    rememberSession(signedIn);
    const file = photo('invitation.jpg', 'image/jpeg');
    await checked(file, invitation);

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe('/api/leakcheck?redact=true');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe(file);
    expect(init?.credentials).toBe('same-origin');
    expect(init?.headers).toMatchObject({ 'content-type': 'image/jpeg', 'x-csrf-token': 'csrf-token' });
  });

  it('sends a file whose type the browser names oddly as plain bytes, for the server to recognise', async () => {
    await checked(photo('photo.jpg', 'image/jpg'), invitation);
    expect(fetchMock.mock.calls[0]![1]?.headers).toMatchObject({
      'content-type': 'application/octet-stream',
    });
  });

  it('shows the progress while the server reads the image, and takes no other image meanwhile', async () => {
    let answer: (response: Response) => void = () => undefined;
    fetchMock.mockReturnValueOnce(new Promise<Response>((resolve) => (answer = resolve)));
    const states: LeakCheckState[] = [];
    const done = runLeakCheck(photo(), (state) => states.push(state));

    expect(states.map((state) => state.phase)).toEqual(['checking']);
    const html = renderPage(states[0]!);
    expect(tags(html, 'progress')).toHaveLength(1);
    expect(statusText(html)).toContain('Reading invitation.jpg: its text, QR codes and metadata.');
    expect(tags(html, 'button', { disabled: '' })).toHaveLength(1);

    answer(jsonAnswer(200, invitation));
    await done;
    expect(states.map((state) => state.phase)).toEqual(['checking', 'checked']);
    expect(tags(renderPage(states[1]!), 'progress')).toHaveLength(0);
  });
});

describe('a file refused before any upload', () => {
  it('says that a file over 20 MB is too large, with its size, and sends nothing', async () => {
    const states = await check(photo('holiday.jpg', 'image/jpeg', 21 * MB));

    expect(fetchMock).not.toHaveBeenCalled();
    expect(states.map((state) => state.phase)).toEqual(['refused']);
    const html = renderPage(states[0]!);
    expect(alertText(html)).toBe('holiday.jpg is 21 MB: too large to be checked. The limit is 20 MB.');
    expect(tags(html, 'img')).toHaveLength(0);
  });

  it('says that a document is not an image it can read', async () => {
    const states = await check(photo('minutes.pdf', 'application/pdf'));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(alertText(renderPage(states[0]!))).toBe(
      'minutes.pdf is not an image Rempart can read. Use a JPEG, PNG, WebP, GIF, TIFF or AVIF image.',
    );
  });
});

describe('a check the server refuses', () => {
  async function failed(response: Response): Promise<string> {
    fetchMock.mockResolvedValueOnce(response);
    const states = await check(photo());
    expect(states.map((state) => state.phase)).toEqual(['checking', 'failed']);
    const html = renderPage(states[1]!);
    expect(statusText(html)).toBe('');
    return alertText(html);
  }

  it('says the file was too large when the server answers 413', async () => {
    const alert = await failed(
      jsonAnswer(413, { error: { code: 'payload_too_large', message: 'The upload is too large.' } }),
    );
    expect(alert).toBe('The server refused invitation.jpg: the file is too large.');
  });

  it('says the same when a proxy in front of the server answers 413 with its own page', async () => {
    const alert = await failed(new Response('<html>413 Request Entity Too Large</html>', { status: 413 }));
    expect(alert).toBe('The server refused invitation.jpg: the file is too large.');
  });

  it('explains an image with too many pixels and an image that cannot be read', async () => {
    expect(
      await failed(jsonAnswer(413, { error: { code: 'image_too_large', message: 'Too many pixels.' } })),
    ).toBe(
      'This image has too many pixels to be checked. Try a smaller version of it, such as a screenshot.',
    );
    expect(
      await failed(jsonAnswer(422, { error: { code: 'image_unreadable', message: 'Unreadable.' } })),
    ).toBe('This image could not be read: the file may be damaged, or not be an image.');
  });

  it('names the accepted formats when the server does not take the type', async () => {
    expect(await failed(jsonAnswer(415, { error: { code: 'unsupported_media_type', message: 'No.' } }))).toBe(
      'Rempart cannot read this type of file. Use a JPEG, PNG, WebP, GIF, TIFF or AVIF image.',
    );
  });
});

describe('the report', () => {
  it('draws one box per finding located on the image, in its pixels, in an overlay scaled by its viewBox', async () => {
    const html = renderPage(await checked(photo(), invitation));

    expect(tags(html, 'img', { 'data-testid': 'leakcheck-image' })).toEqual([
      expect.objectContaining({ src: originalSrc, width: '1280', height: '720' }),
    ]);
    const [scaled] = tags(html, 'svg', { preserveAspectRatio: 'none' });
    expect(scaled).toMatchObject({ viewBox: '0 0 1280 720', width: '100%', height: '100%' });

    // Three findings in the picture; the two in the metadata have nothing to draw.
    const boxes = tags(html, 'rect', { class: 'leak-box-edge' });
    expect(boxes.map(({ x, y, width, height }) => ({ x, y, width, height }))).toEqual([
      { x: '64', y: '72', width: '512', height: '40' },
      { x: '640', y: '360', width: '320', height: '36' },
      { x: '64', y: '600', width: '300', height: '30' },
    ]);
    expect(boxes.every((box) => box['vector-effect'] === 'non-scaling-stroke')).toBe(true);

    // The numbers sit at the boxes' corners, in percentages of the image: they follow any size.
    expect(tags(html, 'svg').filter((svg) => svg['data-label'] !== undefined)).toEqual([
      expect.objectContaining({ 'data-label': '1', x: '5%', y: '10%' }),
      expect.objectContaining({ 'data-label': '2', x: '50%', y: '50%' }),
      expect.objectContaining({ 'data-label': '3', x: '5%', y: '83.333%' }),
    ]);
  });

  it('colours each box by severity and titles it with its number, kind and reason', async () => {
    const html = renderPage(await checked(photo(), invitation));
    expect(tags(html, 'g').map((g) => [g['data-finding'], g.class])).toEqual([
      ['1', 'leak-box leak-box-high'],
      ['2', 'leak-box leak-box-high'],
      ['3', 'leak-box leak-box-low'],
    ]);
    expect(html).toContain(
      '<title>2. Meeting passcode: Anyone who reads this code can join the meeting.</title>',
    );
  });

  it('lists the findings in the picture under the numbers of their boxes', async () => {
    const html = renderPage(await checked(photo(), invitation));
    const pictured = textOf(html, 'section', 'data-testid="leakcheck-pictured"');
    expect(pictured).toMatch(
      /^In the picture 1 Rempart meeting link High .* 2 Meeting passcode High .* 3 Email address Low/,
    );
    expect(pictured).toContain('Passcode: 482913');
    expect(pictured).toContain('Anyone who reads this code can join the meeting.');
    expect(pictured).toContain('In a QR code');
    expect(pictured).not.toContain('Pixel 8');
  });

  it('highlights the box of the finding pointed at, and dims the others', () => {
    const html = render(
      createElement(LeakImage, {
        image: invitation.image,
        src: originalSrc,
        alt: '',
        findings: arrangeFindings(invitation).pictured,
        active: 2,
        onActive: () => undefined,
        onPick: () => undefined,
      }),
    );
    expect(tags(html, 'g').map((g) => g.class)).toEqual([
      'leak-box leak-box-high',
      'leak-box leak-box-high leak-box-active',
      'leak-box leak-box-low',
    ]);
    expect(tags(html, 'div', { class: 'leak-canvas leak-canvas-focus' })).toHaveLength(1);
  });

  it('says the image must not be posted as it is, and how many findings it holds', async () => {
    const html = renderPage(await checked(photo(), invitation));
    expect(tags(html, 'div', { class: 'verdict verdict-leak' })).toHaveLength(1);
    expect(statusText(html)).toBe(
      '5 findings — do not post this image as it is If it must be posted, post the redacted copy below, once you have looked at it yourself.',
    );
  });

  it('says in one line when nothing was found', async () => {
    const html = renderPage(await checked(photo('chart.png', 'image/png'), nothing));
    expect(tags(html, 'div', { class: 'verdict verdict-clear' })).toHaveLength(1);
    expect(statusText(html)).toMatch(/^Nothing found No meeting link, code, password/);
    expect(tags(html, 'g')).toHaveLength(0);
    expect(html).not.toContain('data-testid="leakcheck-pictured"');
    expect(html).not.toContain('data-testid="leakcheck-metadata"');
  });

  it('says in French and in Dutch too what was found', async () => {
    const state = await checked(photo(), invitation);
    const fr = renderPage(state, { language: 'fr' });
    expect(statusText(fr)).toMatch(/^5 éléments trouvés — ne publiez pas cette image telle quelle/);
    expect(fr).toContain('Code d’accès à la réunion');
    const nl = renderPage(state, { language: 'nl' });
    expect(statusText(nl)).toMatch(/^5 vondsten — publiceer deze afbeelding niet zoals ze is/);
  });

  it('tells that the link of a Rempart meeting found in the image has just been replaced', async () => {
    const html = renderPage(await checked(photo(), invitation));
    expect(textOf(html, 'p', 'class="leak-meeting leak-meeting-rotated"')).toBe(
      'Rempart meeting “Defence council”: the link has been replaced; the old one no longer works.',
    );
  });

  it('tells when the link found had already been replaced', async () => {
    const stale: LeakCheckResult = {
      ...invitation,
      findings: invitation.findings.map((finding) =>
        finding.meeting ? { ...finding, meeting: { ...finding.meeting, rotated: false } } : finding,
      ),
    };
    const html = renderPage(await checked(photo(), stale));
    expect(textOf(html, 'p', 'class="leak-meeting"')).toBe(
      'Rempart meeting “Defence council”: this link had already been replaced.',
    );
    expect(html).not.toContain('the old one no longer works');
  });

  it('lists the metadata findings in their own section, removed from the redacted copy', async () => {
    const html = renderPage(await checked(photo(), invitation));
    const metadata = textOf(html, 'section', 'data-testid="leakcheck-metadata"');
    expect(metadata).toBe(
      'In the file’s metadata: removed from the redacted copy ' +
        'GPS position Medium Found: GPS: 50.8466, 4.3528 The place where the photo was taken. ' +
        'Camera or phone model Low Found: Model: Pixel 8 The phone that took the photo.',
    );
  });

  it('does not claim the metadata was removed when the server sent no redacted copy', async () => {
    const { redacted: _, ...unredacted } = invitation;
    const html = renderPage(await checked(photo(), unredacted));
    expect(textOf(html, 'section', 'data-testid="leakcheck-metadata"')).toMatch(
      /^In the file’s metadata GPS/,
    );
    expect(statusText(html)).toContain('Mask what was found before you post it.');
    expect(tags(html, 'input', { type: 'radio' })).toHaveLength(0);
  });

  it('offers the original and the redacted copy, the original first', async () => {
    const html = renderPage(await checked(photo(), invitation));
    const views = tags(html, 'input', { type: 'radio' });
    expect(views.map((view) => [view.value, view.checked !== undefined])).toEqual([
      ['original', true],
      ['redacted', false],
    ]);
  });

  it('links the redacted copy for download under the original’s name, marked as redacted', async () => {
    const state = await checked(photo('invitation.jpg'), invitation);
    if (state.phase !== 'checked') throw new Error(state.phase);
    const file = redactedFile(state.result, state.image.name)!;
    expect([...new Uint8Array(await file.blob.arrayBuffer())]).toEqual(redactedBytes);
    const url = URL.createObjectURL(file.blob);
    try {
      const html = renderPage(state, { download: { url, fileName: file.fileName } });
      const [link] = tags(html, 'a', { href: url });
      expect(link).toMatchObject({ download: 'invitation-redacted.jpg' });
      expect(textOf(html, 'a', `href="${url}"`)).toBe('Download redacted image');
    } finally {
      URL.revokeObjectURL(url);
    }
  });

  it('describes the image read and how long the reading took', async () => {
    const html = renderPage(await checked(photo(), invitation));
    expect(textOf(html, 'p', 'data-testid="leakcheck-facts"')).toBe(
      'JPEG, 1,280 × 720 pixels, 240 kB. Read in 2.3 s.',
    );
  });
});

const signedIn: SessionState = {
  authenticated: true,
  stage: 'full',
  agent: {
    id: '11111111-1111-4111-8111-111111111111',
    email: 'claire.martin@example.org',
    displayName: 'Claire Martin',
    unit: 'DGSI',
    role: 'agent',
    clearance: 'internal',
    status: 'active',
    createdAt: '2026-03-01T08:00:00.000Z',
    lastSignInAt: null,
    factorCount: 1,
    lockedUntil: null,
  },
  csrfToken: 'csrf-token',
  mfaAt: null,
  expiresAt: '2026-03-12T18:00:00.000Z',
};
