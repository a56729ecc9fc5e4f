/**
 * What an image's metadata tells about where it was taken, with what, and by whom: EXIF (GPS,
 * camera make, model and serial number, owner, artist), XMP and PNG text chunks. Each is reported
 * as a finding; the redacted copy carries none of them.
 */
import exifReader from 'exif-reader';
import type { Finding } from './findings.js';

export interface MetadataSources {
  exif?: Buffer;
  xmp?: Buffer;
  comments: { keyword: string; text: string }[];
}

type Exif = ReturnType<typeof exifReader>;

const clean = (value: unknown): string | undefined => {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).replace(/\0/g, '').trim();
  return text === '' ? undefined : text.slice(0, 200);
};

function readExif(buffer: Buffer | undefined): Exif | undefined {
  if (!buffer) return undefined;
  try {
    return exifReader(buffer);
  } catch {
    return undefined; // a damaged EXIF block says nothing; the image itself may still be fine
  }
}

function degrees(value: unknown, ref: unknown, negative: string): number | undefined {
  const parts = Array.isArray(value) ? value.map(Number) : typeof value === 'number' ? [value] : [];
  if (parts.length === 0 || parts.some((n) => !Number.isFinite(n))) return undefined;
  const [d = 0, m = 0, s = 0] = parts;
  const v = d + m / 60 + s / 3600;
  return String(ref).toUpperCase().startsWith(negative) ? -v : v;
}

/** A value of an XMP property, as an attribute or an element (first of a list). */
function xmpValue(xmp: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const escaped = name.replace(':', '\\:');
    const attribute = new RegExp(`${escaped}="([^"]{1,200})"`).exec(xmp);
    if (attribute?.[1]) return clean(attribute[1]);
    const element = new RegExp(`<${escaped}>([\\s\\S]{0,2000}?)</${escaped}>`).exec(xmp);
    if (element?.[1]) {
      const inner = /<rdf:li[^>]*>([^<]{1,200})<\/rdf:li>/.exec(element[1])?.[1] ?? element[1];
      const text = clean(inner.replace(/<[^>]*>/g, ''));
      if (text) return text;
    }
  }
  return undefined;
}

/** XMP writes GPS as "50,50.802N". */
function xmpDegrees(text: string | undefined): number | undefined {
  const m = text ? /^(\d{1,3}),(\d{1,2}(?:\.\d+)?)(?:,(\d{1,2}(?:\.\d+)?))?([NSEW])$/.exec(text) : null;
  if (!m) return undefined;
  const v = Number(m[1]) + Number(m[2]) / 60 + Number(m[3] ?? 0) / 3600;
  return m[4] === 'S' || m[4] === 'W' ? -v : v;
}

const finding = (
  kind: Finding['kind'],
  text: string,
  reason: string,
  severity: Finding['severity'],
): Finding => ({
  kind,
  source: 'metadata',
  text,
  box: null,
  reason,
  severity,
});

export function metadataFindings(sources: MetadataSources): Finding[] {
  const exif = readExif(sources.exif);
  const xmp = sources.xmp?.toString('utf8') ?? '';
  const findings: Finding[] = [];

  const gps = exif?.GPSInfo;
  const latitude =
    degrees(gps?.GPSLatitude, gps?.GPSLatitudeRef, 'S') ?? xmpDegrees(xmpValue(xmp, ['exif:GPSLatitude']));
  const longitude =
    degrees(gps?.GPSLongitude, gps?.GPSLongitudeRef, 'W') ?? xmpDegrees(xmpValue(xmp, ['exif:GPSLongitude']));
  if (
    latitude !== undefined &&
    longitude !== undefined &&
    Math.abs(latitude) <= 90 &&
    Math.abs(longitude) <= 180
  ) {
    findings.push(
      finding(
        'gps_position',
        `GPS ${latitude.toFixed(5)}, ${longitude.toFixed(5)}`,
        'The file records where the picture was taken (GPS position): it can reveal a home or a site.',
        'high',
      ),
    );
  }

  const make = clean(exif?.Image?.Make) ?? xmpValue(xmp, ['tiff:Make']);
  const model = clean(exif?.Image?.Model) ?? xmpValue(xmp, ['tiff:Model']);
  const serial =
    clean(exif?.Photo?.BodySerialNumber) ?? xmpValue(xmp, ['exifEX:BodySerialNumber', 'aux:SerialNumber']);
  const software = clean(exif?.Image?.Software) ?? xmpValue(xmp, ['xmp:CreatorTool']);
  const device = [make, model && make && model.startsWith(make) ? model.slice(make.length).trim() : model]
    .filter(Boolean)
    .join(' ');
  if (device || serial) {
    const text = [device, serial && `serial ${serial}`, software && `(${software})`]
      .filter(Boolean)
      .join(' ');
    findings.push(
      finding(
        'device',
        text,
        serial
          ? 'The file names the device that took the picture, with its serial number.'
          : 'The file names the device that took the picture.',
        serial ? 'medium' : 'low',
      ),
    );
  }

  const owners = new Set<string>();
  for (const value of [
    clean(exif?.Photo?.CameraOwnerName),
    clean(exif?.Image?.Artist),
    clean(exif?.Image?.Copyright),
    xmpValue(xmp, [
      'aux:OwnerName',
      'exifEX:CameraOwnerName',
      'dc:creator',
      'xmpRights:Owner',
      'photoshop:Credit',
    ]),
    ...sources.comments
      .filter((c) => /^(author|copyright|owner|creator)$/i.test(c.keyword))
      .map((c) => clean(c.text)),
  ]) {
    if (value) owners.add(value);
  }
  if (owners.size > 0) {
    findings.push(finding('owner', [...owners].join('; '), 'The file names its owner or author.', 'medium'));
  }
  return findings;
}
