import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateLeakImages, meetingProducts, photoVariants, type LeakImageCase } from './leak-images.js';

describe('the generated leak check test set', () => {
  let cases: LeakImageCase[] = [];
  let again: LeakImageCase[] = [];

  beforeAll(async () => {
    cases = await generateLeakImages({ seed: 2020 });
    again = await generateLeakImages({ seed: 2020 });
  }, 120_000);

  const credentials = (): LeakImageCase[] => cases.filter((c) => c.expected.length > 0);
  const clean = (): LeakImageCase[] => cases.filter((c) => c.expected.length === 0);

  it('is the same, byte for byte, for the same seed', () => {
    expect(again.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    cases.forEach((c, i) => {
      expect(again[i]?.expected).toEqual(c.expected);
      expect(again[i]?.image.equals(c.image), c.name).toBe(true);
    });
  });

  it('names every case once', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('has about 45 images with meeting credentials and 20 clean ones', () => {
    expect(credentials().length).toBeGreaterThanOrEqual(40);
    expect(clean().length).toBeGreaterThanOrEqual(18);
  });

  it('covers English, French and Dutch, for credentials and clean images alike', () => {
    for (const language of ['en', 'fr', 'nl'] as const) {
      expect(credentials().filter((c) => c.language === language).length).toBeGreaterThanOrEqual(12);
      expect(clean().filter((c) => c.language === language).length).toBeGreaterThanOrEqual(5);
    }
  });

  it('shows every product in every language, as a screenshot and as a photo', () => {
    for (const language of ['en', 'fr', 'nl'] as const) {
      for (const product of meetingProducts) {
        const shown = credentials().filter((c) => c.language === language && c.product === product);
        expect(
          shown.some((c) => c.variant === 'screenshot'),
          `${language} ${product}`,
        ).toBe(true);
        expect(
          shown.some((c) => c.variant !== 'screenshot'),
          `${language} ${product}`,
        ).toBe(true);
      }
    }
  });

  it('uses every photo defect, and a quarter turn, on credentials and on clean images', () => {
    for (const variant of [...photoVariants, 'photo-rotated-90']) {
      expect(
        credentials().some((c) => c.variant === variant),
        variant,
      ).toBe(true);
    }
    expect(new Set(clean().map((c) => c.variant)).size).toBeGreaterThanOrEqual(4);
    expect(clean().filter((c) => c.variant === 'screenshot').length).toBeGreaterThanOrEqual(9);
  });

  it('replays the 2020 incident: a link and five digits of a six-digit PIN, in each language', () => {
    const incidents = cases.filter((c) => c.layout === 'panel');
    expect(new Set(incidents.map((c) => c.language))).toEqual(new Set(['en', 'fr', 'nl']));
    for (const c of incidents) {
      expect(c.expected.map((e) => e.kind)).toEqual(['meeting_link', 'meeting_id', 'passcode']);
      expect(c.expected.find((e) => e.kind === 'passcode')?.value).toMatch(/^\d{5}$/);
    }
  });

  it('expects values of the right shape, drawn at random rather than written in', () => {
    for (const { kind, value } of credentials().flatMap((c) => c.expected)) {
      switch (kind) {
        case 'rempart_meeting_link':
          expect(value).toMatch(/^[A-Za-z0-9_-]{22}$/);
          break;
        case 'meeting_link':
          expect(value).toMatch(/^[a-z0-9.-]+\.[a-z]+\/\S+$/);
          break;
        case 'meeting_id':
          expect(value).toMatch(/^\d{9,}$/);
          break;
        case 'dial_in':
          expect(value).toMatch(/^\d{8,}\|\d{4,}$/);
          break;
        case 'passcode':
          expect(value).toMatch(/^(\d{5,}|[A-Za-z0-9]{6,12})$/);
          break;
      }
    }
    const ids = credentials().flatMap((c) => c.expected.filter((e) => e.kind === 'meeting_id'));
    expect(new Set(ids.map((e) => e.value)).size).toBe(ids.length);
  });

  it('encodes screenshots as PNG and photos as JPEG, 1280 to 1920 pixels on the long side', async () => {
    for (const c of cases) {
      const meta = await sharp(c.image).metadata();
      expect(meta.format, c.name).toBe(c.format);
      expect(c.format, c.name).toBe(c.variant === 'screenshot' ? 'png' : 'jpeg');
      const long = Math.max(meta.width ?? 0, meta.height ?? 0);
      expect(long, c.name).toBeGreaterThanOrEqual(1280);
      expect(long, c.name).toBeLessThanOrEqual(1920);
    }
  });
});
