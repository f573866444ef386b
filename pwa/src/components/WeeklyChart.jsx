/**
 * A small SVG stacked bar chart of weekly counts with text alternatives: the chart is
 * an image with a summary label, each series is named in a legend (in stacking order,
 * bottom first), and every number is in a table for screen readers and for anyone who
 * prefers numbers (so colour is never the only way to read it).
 */
const W = 320;
const H = 170;
const PAD = { left: 30, right: 8, top: 10, bottom: 30 };
const dayMonth = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

export const weekStartText = (week) => dayMonth.format(new Date(`${week.start}T12:00:00`));

function niceMax(value) {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

/** `series`: [{key, label, tone}] bottom first; tone is red, amber, green, blue or grey. */
export function WeeklyChart({ title, weeks, series, value, summary }) {
  const totals = weeks.map((w) => series.reduce((sum, s) => sum + value(w, s.key), 0));
  const max = niceMax(Math.max(1, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / weeks.length;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  return (
    <figure class="weekly">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${summary}`} class="weekly__svg">
        {[0, max / 2, max].map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(tick)} y2={y(tick)} class="trend__grid" />
            <text x={PAD.left - 4} y={y(tick) + 4} text-anchor="end" class="trend__label">{tick}</text>
          </g>
        ))}
        {weeks.map((w, i) => {
          let base = 0;
          return (
            <g key={w.week}>
              {series.map((s) => {
                const v = value(w, s.key);
                const top = base + v;
                const rect = v ? <rect key={s.key} x={PAD.left + i * slot + slot * 0.15} width={slot * 0.7} y={y(top)} height={y(base) - y(top)} class={`weekly__bar weekly__${s.tone}`} /> : null;
                base = top;
                return rect;
              })}
              {i % 3 === 0 || i === weeks.length - 1 ? <text x={PAD.left + (i + 0.5) * slot} y={H - 10} text-anchor="middle" class="trend__label">{weekStartText(w)}</text> : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map((s) => (
            <li key={s.key}><svg class="legend__swatch" viewBox="0 0 16 16" aria-hidden="true" focusable="false"><rect x="1" y="1" width="14" height="14" class={`weekly__bar weekly__${s.tone}`} /></svg>{s.label}</li>
          ))}
        </ul>
        <details>
          <summary>{title} as a table</summary>
          <div class="table-wrap" tabIndex={0} role="region" aria-label={`${title} as a table`}>
            <table class="table">
              <thead>
                <tr><th scope="col">Week starting</th>{series.map((s) => <th scope="col" key={s.key}>{s.label}</th>)}<th scope="col">Total</th></tr>
              </thead>
              <tbody>
                {weeks.map((w, i) => (
                  <tr key={w.week}><th scope="row">{weekStartText(w)}</th>{series.map((s) => <td key={s.key}>{value(w, s.key)}</td>)}<td>{totals[i]}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}
