// Draws the app icons (a white house with a door on NHS blue) as PNG files without any
// image library: shapes are tested per pixel with 4x4 supersampling and written with
// node:zlib. Run `npm run icons` after changing the design; the PNGs are committed.
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const BLUE = [0x00, 0x5e, 0xb8];
const WHITE = [0xff, 0xff, 0xff];

// The design in a 100x100 box; `scale` shrinks it about the centre (maskable safe zone).
function shapeAt(x, y, scale) {
  const u = 50 + (x - 50) / scale;
  const v = 50 + (y - 50) / scale;
  const inRoof = v >= 20 && v <= 48 && Math.abs(u - 50) <= (v - 20) * (32 / 28);
  const inBody = u >= 27 && u <= 73 && v >= 46 && v <= 80;
  const inDoor = u >= 44 && u <= 56 && v >= 60 && v <= 80;
  return (inRoof || inBody) && !inDoor;
}

function insideRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 100 - radius);
  const cy = Math.min(Math.max(y, radius), 100 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function draw(size, { maskable }) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let white = 0;
      let covered = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = ((px + (sx + 0.5) / samples) / size) * 100;
          const y = ((py + (sy + 0.5) / samples) / size) * 100;
          if (!maskable && !insideRoundedSquare(x, y, 18)) continue;
          covered++;
          if (shapeAt(x, y, maskable ? 0.8 : 1)) white++;
        }
      }
      const n = samples * samples;
      const i = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) {
        rgba[i + c] = covered ? Math.round((BLUE[c] * (covered - white) + WHITE[c] * white) / covered) : 0;
      }
      rgba[i + 3] = Math.round((covered / n) * 255);
    }
  }
  return png(size, size, rgba);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="#005eb8"/>
<path fill="#fff" fill-rule="evenodd" d="M50 20 82 48 73 48 73 80 27 80 27 48 18 48Z M44 60 56 60 56 80 44 80Z"/>
</svg>
`;

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'icon-192.png'), draw(192, { maskable: false }));
writeFileSync(join(OUT, 'icon-512.png'), draw(512, { maskable: false }));
writeFileSync(join(OUT, 'maskable-512.png'), draw(512, { maskable: true }));
writeFileSync(join(OUT, 'icon.svg'), SVG);
console.log(`icons written to ${OUT}`);
