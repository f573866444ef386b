/**
 * A QR code drawn as inline SVG by the `qrcode` package's encoder (made on the device,
 * works offline, nothing fetched). Dark modules are one path; a 4-module quiet zone.
 */
import QRCode from 'qrcode';

export function qrPath(text) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  let d = '';
  for (let row = 0; row < modules.size; row += 1) {
    for (let col = 0; col < modules.size; col += 1) {
      if (modules.get(row, col)) d += `M${col + 4},${row + 4}h1v1h-1z`;
    }
  }
  return { d, size: modules.size + 8 };
}

export function QrCode({ text, label }) {
  const { d, size } = qrPath(text);
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
