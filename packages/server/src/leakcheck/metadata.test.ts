import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectImage } from './image.js';
import { metadataFindings } from './metadata.js';

const canvas = () => sharp({ create: { width: 120, height: 80, channels: 3, background: '#ffffff' } });

describe('image metadata', () => {
  it('reports the GPS position, the device with its serial number, and the owner from EXIF', async () => {
    const photo = await canvas()
      .withExif({
        IFD0: { Make: 'Apple', Model: 'iPhone 15 Pro', Artist: 'Claire Martin' },
        IFD2: { BodySerialNumber: 'F2LXK0ABC', CameraOwnerName: 'C. Martin' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '50/1 50/1 4800/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '4/1 21/1 900/100',
        },
      })
      .jpeg()
      .toBuffer();
    const findings = metadataFindings(await inspectImage(photo));
    expect(findings.map((f) => f.kind)).toEqual(['gps_position', 'device', 'owner']);
    const [gps, device, owner] = findings;
    expect(gps?.text).toBe('GPS 50.84667, -4.35250');
    expect(gps?.severity).toBe('high');
    expect(device?.text).toContain('Apple iPhone 15 Pro');
    expect(device?.text).toContain('serial F2LXK0ABC');
    expect(owner?.text).toBe('C. Martin; Claire Martin');
    expect(findings.every((f) => f.box === null && f.source === 'metadata')).toBe(true);
  });

  it('reads the same facts from XMP', async () => {
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
        xmlns:dc="http://purl.org/dc/elements/1.1/"
        exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.05E" tiff:Make="SAMSUNG" tiff:Model="SM-S918B">
        <dc:creator><rdf:Seq><rdf:li>Jan Peeters</rdf:li></rdf:Seq></dc:creator>
      </rdf:Description></rdf:RDF></x:xmpmeta>`;
    const photo = await canvas().withXmp(xmp).png().toBuffer();
    const findings = metadataFindings(await inspectImage(photo));
    expect(findings.find((f) => f.kind === 'gps_position')?.text).toBe('GPS 48.85667, 2.35083');
    expect(findings.find((f) => f.kind === 'device')?.text).toBe('SAMSUNG SM-S918B');
    expect(findings.find((f) => f.kind === 'owner')?.text).toBe('Jan Peeters');
  });

  it('finds nothing in a picture without metadata', async () => {
    expect(metadataFindings(await inspectImage(await canvas().png().toBuffer()))).toEqual([]);
  });

  it('survives any EXIF and XMP bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 400 }), (exif, xmp) => {
        const findings = metadataFindings({
          exif: Buffer.concat([Buffer.from('Exif\0\0MM\0*'), Buffer.from(exif)]),
          xmp: Buffer.from(`<x exif:GPSLatitude="${xmp}" exif:GPSLongitude="1,2.5E">${xmp}</x>`),
          comments: [{ keyword: 'Author', text: xmp }],
        });
        for (const f of findings) {
          expect(f.box).toBeNull();
          expect(f.text.length).toBeLessThan(700);
        }
      }),
      { numRuns: 300 },
    );
  });
});
