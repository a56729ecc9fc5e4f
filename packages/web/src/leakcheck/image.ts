/**
 * The file an agent hands to the leak check: which files are refused before any upload, how the
 * redacted copy is shown and what it is called once downloaded. Pure, apart from `Blob`.
 */
import {
  LEAKCHECK_MAX_BYTES,
  leakcheckFormats,
  type LeakCheckResult,
  type LeakcheckFormat,
} from '@rempart/core';

/** The extensions each format is known by, the usual one first. */
const extensions: Readonly<Record<LeakcheckFormat, readonly string[]>> = {
  jpeg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff', 'tif'],
  avif: ['avif'],
};

/** What a file picker offers: the server's formats, by media type and by extension. */
export const acceptedFiles = [
  ...leakcheckFormats.map((format) => `image/${format}`),
  ...leakcheckFormats.flatMap((format) => extensions[format].map((extension) => `.${extension}`)),
].join(',');

function formatOfMediaType(mediaType: string): LeakcheckFormat | undefined {
  const subtype = /^image\/([a-z]+)$/.exec(mediaType.trim().toLowerCase())?.[1];
  return leakcheckFormats.find((format) => format === subtype);
}

function extensionOf(name: string): string | undefined {
  const base = baseName(name);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1) : undefined;
}

function formatOfName(name: string): LeakcheckFormat | undefined {
  const extension = extensionOf(name)?.toLowerCase();
  if (extension === undefined) return undefined;
  return leakcheckFormats.find((format) => extensions[format].includes(extension));
}

function baseName(name: string): string {
  return name.split(/[\\/]/).pop() ?? '';
}

/** Why a file is not sent at all. */
export type ImageRefusal =
  | { reason: 'too_large'; bytes: number; max: number }
  | { reason: 'empty' }
  | { reason: 'not_readable'; type: string };

/**
 * Why a file is refused before any upload, if it is: larger than the server takes, empty, or of
 * a type the server cannot read (a PDF, a HEIC photo…). A file whose type the browser does not
 * know, or names oddly (`image/jpg`), is sent: the server recognises an image by its bytes.
 *
 * @example
 *   refuseImage({ name: 'scan.pdf', size: 1000, type: 'application/pdf' })
 *   // → { reason: 'not_readable', type: 'application/pdf' }
 */
export function refuseImage(file: Pick<File, 'name' | 'size' | 'type'>): ImageRefusal | undefined {
  if (file.size > LEAKCHECK_MAX_BYTES)
    return { reason: 'too_large', bytes: file.size, max: LEAKCHECK_MAX_BYTES };
  if (file.size === 0) return { reason: 'empty' };
  const type = file.type.trim().toLowerCase();
  if (type === '' || type === 'application/octet-stream') return undefined;
  if (formatOfMediaType(type) !== undefined || formatOfName(file.name) !== undefined) return undefined;
  return { reason: 'not_readable', type };
}

/**
 * The name of the redacted copy: the original's, marked, with an extension of the copy's format
 * (the original's own extension when it already names that format).
 *
 * @example
 *   redactedFileName('IMG_0042.JPG', 'jpeg') // → 'IMG_0042-redacted.JPG'
 *   redactedFileName('invite.png', 'png')    // → 'invite-redacted.png'
 *   redactedFileName('', 'jpeg')             // → 'image-redacted.jpg'
 */
export function redactedFileName(originalName: string, format: LeakcheckFormat): string {
  const base = baseName(originalName);
  const extension = extensionOf(base);
  const stem = (extension === undefined ? base : base.slice(0, -extension.length - 1)).trim();
  const kept = extension !== undefined && formatOfName(base) === format ? extension : extensions[format][0];
  return `${stem === '' ? 'image' : stem}-redacted.${kept ?? format}`;
}

/** The format of the redacted copy: the one its media type names, else the upload's. */
function redactedFormat(result: LeakCheckResult): LeakcheckFormat {
  return formatOfMediaType(result.redacted?.mediaType ?? '') ?? result.image.format;
}

/** The redacted copy as an image source (`data:` URLs are what the console's CSP lets images load). */
export function redactedSource(result: LeakCheckResult): string | undefined {
  if (!result.redacted) return undefined;
  return `data:image/${redactedFormat(result)};base64,${result.redacted.base64}`;
}

/** Base64 (RFC 4648 §4) to bytes. */
export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64.replace(/\s+/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** The redacted copy as a file to download, when the server sent one. */
export function redactedFile(
  result: LeakCheckResult,
  originalName: string,
): { blob: Blob; fileName: string } | undefined {
  if (!result.redacted) return undefined;
  const format = redactedFormat(result);
  return {
    blob: new Blob([decodeBase64(result.redacted.base64)], { type: `image/${format}` }),
    fileName: redactedFileName(originalName, format),
  };
}

/**
 * A file size in the reader's language, in the binary units the 20 MB limit is counted in.
 *
 * @example
 *   formatSize(25 * 1024 * 1024, 'fr') // → '25 Mo'
 */
export function formatSize(bytes: number, language: string): string {
  const megabytes = bytes / (1024 * 1024);
  const [value, unit] = megabytes >= 1 ? [megabytes, 'megabyte'] : [Math.max(bytes / 1024, 0.1), 'kilobyte'];
  // Rounded up, so that a file just over the limit never reads as the limit itself.
  const format = new Intl.NumberFormat(language, {
    style: 'unit',
    unit,
    maximumFractionDigits: 1,
    roundingMode: 'ceil',
  });
  return format.format(value);
}
