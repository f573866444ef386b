/**
 * A small SVG line chart with a text alternative: the chart is an image with a
 * summary label, and the same points are in a table for screen readers and for anyone
 * who prefers numbers.
 */
import { formatDate } from '../lib/format.js';

const W = 320;
const H = 140;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };

export function TrendChart({ title, points, yMin, yMax, yTicks, valueText, summary }) {
  if (!points.length) return <p class="empty">No {title.toLowerCase()} recorded yet.</p>;
  const times = points.map((p) => new Date(p.date).getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t) => PAD.left + (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v) => PAD.top + (1 - (v - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  return (
    <figure class="trend">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${summary}`} class="trend__svg">
        {yTicks.map((tick) => (
          <g key={tick.value}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(tick.value)} y2={y(tick.value)} class="trend__grid" />
            <text x={PAD.left - 6} y={y(tick.value) + 4} text-anchor="end" class="trend__label">{tick.label}</text>
          </g>
        ))}
        <text x={PAD.left} y={H - 8} class="trend__label">{formatDate(points[0].date)}</text>
        {points.length > 1 ? <text x={W - PAD.right} y={H - 8} text-anchor="end" class="trend__label">{formatDate(points[points.length - 1].date)}</text> : null}
        <path d={path} class="trend__line" />
        {points.map((p, i) => (
          <circle key={i} cx={x(times[i])} cy={y(p.value)} r="4.5" class="trend__point" />
        ))}
      </svg>
      <figcaption>
        <details>
          <summary>{title} as a table</summary>
          <table class="table">
            <thead><tr><th scope="col">Date</th><th scope="col">Value</th></tr></thead>
            <tbody>
              {points.map((p, i) => <tr key={i}><td>{formatDate(p.date)}</td><td>{valueText(p)}</td></tr>)}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
