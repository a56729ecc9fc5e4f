/**
 * The leak check contract: what an image gives away (found by OCR, in QR codes and barcodes,
 * and in its metadata), as the HTTP API, the CLI's `--json` and the console show it.
 */
import { z } from 'zod';

/** The largest upload, in bytes. */
export const LEAKCHECK_MAX_BYTES = 20 * 1024 * 1024;
/** The largest image, in pixels (width × height): beyond, a decompression bomb is refused unread. */
export const LEAKCHECK_MAX_PIXELS = 40_000_000;
/**
 * The languages the OCR can read (Tesseract's codes), each from its `@tesseract.js-data` package;
 * with several, the first leads and a line it reads poorly is read again in the others.
 */
export const leakcheckLanguages = ['fra', 'eng', 'nld'] as const;
export const LeakcheckLanguage = z.enum(leakcheckLanguages);
export type LeakcheckLanguage = z.infer<typeof LeakcheckLanguage>;
/**
 * What the OCR reads unless configured: the French model, which knows every letter and accent of
 * French, English and Dutch (Dutch's ë and ï are French letters too). What the detectors look
 * for (links, ids, digits, keywords in the three languages matched without accents) rests on
 * letters, not on a dictionary: on the recall set the French model alone finds as many
 * credentials in the English and Dutch images as the three models together, in two thirds of the
 * time, because Tesseract reads again in every other language each line holding a word it is
 * unsure of, and a code or a link is such a word.
 */
export const defaultLeakcheckLanguages: readonly LeakcheckLanguage[] = ['fra'];

/** The image types accepted; the redacted image keeps the type of the upload. */
export const leakcheckFormats = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export const LeakcheckFormat = z.enum(leakcheckFormats);
export type LeakcheckFormat = z.infer<typeof LeakcheckFormat>;

export const leakFindingKinds = [
  // read in the picture's text (or in a QR code or barcode holding text)
  'rempart_meeting_link',
  'meeting_link',
  'meeting_id',
  'passcode',
  'dial_in',
  'secret',
  'email',
  'phone',
  'classification_marking',
  // a QR code or barcode whose content is not one of the above
  'qr_code',
  'barcode',
  // the file's metadata (EXIF, XMP)
  'gps_position',
  'device',
  'owner',
] as const;
export const LeakFindingKind = z.enum(leakFindingKinds);
export type LeakFindingKind = z.infer<typeof LeakFindingKind>;

/** The kinds that give access to a meeting: what the recall bar is measured on. */
export const meetingCredentialKinds: readonly LeakFindingKind[] = [
  'rempart_meeting_link',
  'meeting_link',
  'meeting_id',
  'passcode',
  'dial_in',
];

export const LeakBox = z.object({
  x: z.number().int().nonnegative(),
  y: z.number().int().nonnegative(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
});
export type LeakBox = z.infer<typeof LeakBox>;

export const LeakFinding = z
  .object({
    kind: LeakFindingKind,
    /** Where it was found. */
    source: z.enum(['text', 'qr_code', 'barcode', 'metadata']),
    /** What was read, as read (for metadata: the field and its value). */
    text: z.string(),
    /** The area to mask, in the pixels of the image as displayed (EXIF orientation applied); none for metadata. */
    box: LeakBox.nullable(),
    reason: z.string(),
    severity: z.enum(['high', 'medium', 'low']),
    /** A Rempart meeting whose link the image shows, and what was done about it. */
    meeting: z
      .object({
        id: z.string(),
        title: z.string(),
        /** True when the link was live and has just been replaced; false when it had already changed. */
        rotated: z.boolean(),
      })
      .optional(),
  })
  .meta({ id: 'LeakFinding' });
export type LeakFinding = z.infer<typeof LeakFinding>;

export const LeakCheckResult = z
  .object({
    image: z.object({
      format: LeakcheckFormat,
      width: z.number().int(),
      height: z.number().int(),
      bytes: z.number().int(),
    }),
    findings: z.array(LeakFinding),
    /** The redacted image (same format, every finding masked, metadata removed), base64. */
    redacted: z.object({ mediaType: z.string(), base64: z.string() }).optional(),
    /** How long the scan took, in milliseconds. */
    elapsedMs: z.number(),
  })
  .meta({ id: 'LeakCheckResult' });
export type LeakCheckResult = z.infer<typeof LeakCheckResult>;

export const LeakCheckQuery = z.strictObject({
  /** Return the redacted image too (default true). */
  redact: z.enum(['true', 'false']).default('true'),
});
