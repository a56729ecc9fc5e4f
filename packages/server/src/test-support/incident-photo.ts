/**
 * The picture of the 2020 incident, rebuilt around a given meeting: a screen photographed at a
 * slant, showing the invitation's link and a PIN with its last digit out of the picture, taken
 * with a phone that recorded where and with what.
 */
import sharp from 'sharp';

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

/** A screen photographed at a slant, as in the minister's post: the invitation, and the PIN with its last digit out of the picture. */
export async function incidentPhoto(url: string, pin: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900">
    <rect width="1600" height="900" fill="#e9e6df"/>
    <rect x="120" y="90" width="1360" height="700" rx="12" fill="#fbfbfb" stroke="#999"/>
    <text x="170" y="190" font-family="Liberation Sans" font-size="34" font-weight="bold">Réunion des ministres de la défense</text>
    <text x="170" y="260" font-family="Liberation Sans" font-size="26">Mardi 17 novembre, 14:00 – 16:00</text>
    <text x="170" y="340" font-family="Liberation Sans" font-size="26">Rejoindre : ${escape(url)}</text>
    <text x="170" y="410" font-family="Liberation Sans" font-size="26">PIN : ${pin.slice(0, 5)}</text>
  </svg>`;
  const flat = await sharp(Buffer.from(svg)).png().toBuffer();
  return sharp(flat)
    .rotate(-3, { background: '#d8d4cc' })
    .blur(0.6)
    .jpeg({ quality: 75 })
    .withExif({
      IFD0: { Make: 'Apple', Model: 'iPhone 13' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '50/1 50/1 30/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '4/1 21/1 50/1',
      },
    })
    .toBuffer();
}

/** The share of dark pixels in a box of an image: near 1 where the redaction masked it. */
export async function darkShare(image: Buffer, box: { x: number; y: number; width: number; height: number }) {
  const { data } = await sharp(image)
    .extract({ left: box.x, top: box.y, width: box.width, height: box.height })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data.filter((v) => v < 60).length / data.length;
}
