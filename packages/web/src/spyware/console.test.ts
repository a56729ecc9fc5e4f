/**
 * The spyware pages' parts and their API client, from what the server answers to what the reader
 * sees: only the fetch at the API boundary is replaced; the answers are parsed with the contract
 * and rendered with the pages' own components, in each of the console's languages.
 */
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError, api, maxBytes } from '../api';
import { DeviceStatusBadge } from '../components/spyware/badges';
import { ConsentRecord } from '../components/spyware/consent-record';
import { DetectionsTable } from '../components/spyware/detections-table';
import { ProgressBar } from '../components/spyware/progress-bar';
import { languages } from '../i18n';
import { device, pegasusEvent, scan } from './test-fixtures';
import { fetchMock, jsonAnswer, render, signedInAsAdmin } from '../test-support';

signedInAsAdmin();

const textOf = (html: string): string =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

const sentRequest = (call = 0) => {
  const [path, init] = fetchMock.mock.calls[call] ?? [];
  const headers = (init?.headers ?? {}) as Record<string, string>;
  return { path: typeof path === 'string' ? path : '', method: init?.method, headers, body: init?.body };
};

describe('the spyware API client', () => {
  it('asks for a check with the request as JSON and the anti-forgery token', async () => {
    const answer = scan({ status: 'awaiting_consent' });
    fetchMock.mockResolvedValueOnce(jsonAnswer(201, answer));
    const request = {
      owner: 'claire.martin@interieur.gouv.fr',
      device: { name: 'iPhone de Claire', platform: 'ios' as const },
      kind: 'ios-backup' as const,
      purpose: 'Contrôle avant le déplacement',
    };
    expect(await api.spyware.requestScan(request)).toEqual(answer);
    const sent = sentRequest();
    expect(sent.path).toBe('/api/spyware/scans');
    expect(sent.method).toBe('POST');
    expect(sent.headers['x-csrf-token']).toBe('csrf-token');
    expect(typeof sent.body === 'string' ? JSON.parse(sent.body) : undefined).toEqual(request);
  });

  it('sends a bundle as it is, named in the query, and reads the import', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(400, { error: { code: 'validation_failed', message: 'x' } }));
    const bundle = new Blob(['{"type":"bundle"}'], { type: 'application/json' });
    await expect(api.spyware.importIndicators(bundle, 'nightjar 2025.stix2')).rejects.toBeInstanceOf(
      ApiError,
    );
    const sent = sentRequest();
    expect(sent.path).toBe('/api/spyware/indicator-sets?name=nightjar+2025.stix2');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.body).toBe(bundle);
  });

  it('attaches a signed form with its own type and file name', async () => {
    const answer = scan({ status: 'ready' });
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, answer));
    const form = new Blob(['%PDF-1.7'], { type: 'application/pdf' });
    await api.spyware.attachConsentForm(answer.id, form, 'consentement signé.pdf', 'application/pdf');
    const sent = sentRequest();
    expect(sent.path).toBe(
      `/api/spyware/scans/${answer.id}/consent-form?fileName=consentement+sign%C3%A9.pdf`,
    );
    expect(sent.headers['content-type']).toBe('application/pdf');
  });

  it('turns a refused upload into the server’s stable code', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonAnswer(409, { error: { code: 'consent_required', message: 'The owner has not consented.' } }),
    );
    const error = await api.spyware.consent('00000000-0000-4000-8000-000000000001').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, code: 'consent_required' });
  });

  it('refuses an answer that breaks the contract rather than show it', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, [{ ...device(), status: 'compromised' }]));
    await expect(api.spyware.devices()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('asks for a page of the timeline with the query it is given', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { total: 1, events: [pegasusEvent] }));
    const page = await api.spyware.timeline(
      '00000000-0000-4000-8000-000000000002',
      'offset=0&limit=100&detections=only',
    );
    expect(page.events[0]?.detection?.indicator).toBe('weather4free.com');
    expect(sentRequest().path).toBe(
      '/api/spyware/scans/00000000-0000-4000-8000-000000000002/timeline?offset=0&limit=100&detections=only',
    );
  });
});

describe('an upload the server found too large', () => {
  it('tells the limit the server gave, and nothing when it gave none', () => {
    expect(maxBytes(new ApiError(413, 'payload_too_large', 'too large', { maxBytes: 2_147_483_648 }))).toBe(
      2_147_483_648,
    );
    expect(maxBytes(new ApiError(413, 'payload_too_large', 'too large'))).toBeUndefined();
    expect(
      maxBytes(new ApiError(413, 'payload_too_large', 'too large', { maxBytes: '2 GB' })),
    ).toBeUndefined();
  });

  it('never reads a limit that is not a positive number, whatever the details hold', () => {
    fc.assert(
      fc.property(fc.anything(), (details) => {
        const limit = maxBytes(new ApiError(413, 'payload_too_large', '', details));
        if (limit !== undefined) expect(Number.isFinite(limit) && limit > 0).toBe(true);
      }),
    );
  });
});

describe('what the spyware pages show', () => {
  it('lists a detection with its time, artifact, record, indicator, malware and bundle', () => {
    const text = textOf(
      render(createElement(DetectionsTable, { events: [pegasusEvent], caption: 'Detections' })),
    );
    for (const part of [
      '2023-02-03 09:20',
      'sms',
      'HomeDomain/Library/SMS/sms.db',
      'Your parcel is waiting',
      'domain weather4free.com',
      'matched: https://weather4free.com/track?id=77',
      'Pegasus',
      'pegasus.stix2',
    ])
      expect(text).toContain(part);
  });

  it('shows nothing at all when nothing was detected', () => {
    expect(render(createElement(DetectionsTable, { events: [], caption: 'Detections' }))).toBe('');
  });

  it('says plainly who consented in the console, and when', () => {
    const consent = {
      by: 'agent' as const,
      at: '2026-03-01T09:00:00.000Z',
      agent: 'claire.martin@interieur.gouv.fr',
    };
    expect(textOf(render(createElement(ConsentRecord, { scanId: 'a', consent })))).toBe(
      'Given in the console by claire.martin@interieur.gouv.fr, 2026-03-01 09:00',
    );
    expect(textOf(render(createElement(ConsentRecord, { scanId: 'a', consent }), 'fr'))).toBe(
      'Donné dans la console par claire.martin@interieur.gouv.fr, 2026-03-01 09:00',
    );
  });

  it('links a signed form and shows its SHA-256', () => {
    const consent = {
      by: 'form' as const,
      at: '2026-03-01T09:00:00.000Z',
      attachedBy: 'rssi@interieur.gouv.fr',
      fileName: 'consentement.pdf',
      sha256: 'AB'.repeat(32),
    };
    const html = render(createElement(ConsentRecord, { scanId: 'scan-1', consent }));
    expect(html).toContain('href="/api/spyware/scans/scan-1/consent-form"');
    expect(textOf(html)).toContain('consentement.pdf');
    expect(textOf(html)).toContain(`SHA-256 ${'ab'.repeat(32)}`);
  });

  it.each(languages)('names an infected device as such in %s, never by colour alone', (language) => {
    const text = textOf(render(createElement(DeviceStatusBadge, { status: 'infected' }), language));
    expect(text).toBe({ en: 'Infected', fr: 'Infecté', nl: 'Besmet' }[language]);
  });

  it('draws a bar that never claims 100 % before the end, and an indeterminate one before the total is known', () => {
    const known = render(createElement(ProgressBar, { label: 'Scanning', fraction: 0.999, detail: 'sms' }));
    expect(known).toContain('value="99"');
    expect(textOf(known)).toContain('99% · sms');
    expect(textOf(render(createElement(ProgressBar, { label: 'Analyse', fraction: 0.5 }), 'fr'))).toContain(
      '50 %',
    );
    const unknown = render(createElement(ProgressBar, { label: 'Scanning', fraction: undefined }));
    expect(unknown).not.toContain('value=');
  });
});
