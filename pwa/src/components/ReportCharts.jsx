/**
 * The co-ordinator reports' charts, from the report bodies the server answers
 * (/api/v1/reports/*): used by the Reports screen and the Team dashboard's trends.
 * Each shows this week's numbers as text (not when `compact`, as on the dashboard), the
 * weeks as a chart, and a table.
 */
import { WeeklyChart, weekStartText } from './WeeklyChart.jsx';
import { TrendChart } from './TrendChart.jsx';
import { RISK, SEVERITY } from '../lib/labels.js';

const NOT_ASSESSED = 'Not assessed';
const FALLS_SERIES = [
  { key: 'high', label: `${RISK.high} falls risk`, tone: 'red' },
  { key: 'intermediate', label: `${RISK.intermediate} falls risk`, tone: 'amber' },
  { key: 'low', label: `${RISK.low} falls risk`, tone: 'green' },
  { key: 'not_assessed', label: NOT_ASSESSED, tone: 'grey' },
];
const ACTIVATION_SERIES = [
  ...[['1', 'red'], ['2', 'amber'], ['3', 'blue'], ['4', 'green']].map(([level, tone]) => ({ key: level, label: `Activation level ${level}`, tone })),
  { key: 'not_assessed', label: NOT_ASSESSED, tone: 'grey' },
];
const SEVERITY_SERIES = [['emergency', 'red'], ['urgent', 'amber'], ['routine', 'blue']].map(([key, tone]) => ({ key, label: SEVERITY[key], tone }));
const VISIT_SERIES = [{ key: 'completed', label: 'Completed', tone: 'green' }, { key: 'no_access', label: 'No access', tone: 'amber' }];

/** Minutes as people say them: "35 min", "2 h 5 min", "1 day 3 h". */
export function duration(minutes) {
  if (minutes === null || minutes === undefined) return 'none acknowledged';
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const days = Math.floor(m / 1440);
  const hours = Math.round((m % 1440) / 60);
  return `${days} day${days === 1 ? '' : 's'}${hours ? ` ${hours} h` : ''}`;
}

function Figures({ label, items }) {
  return (
    <ul class="stats" aria-label={label}>
      {items.map(([text, value]) => (
        <li class="stat" key={text}><span class="stat__value">{value}</span><span class="stat__label">{text}</span></li>
      ))}
    </ul>
  );
}

const describe = (series, counts) => series.map((s) => `${s.label} ${counts[s.key]}`).join(', ');

function MixChart({ title, mix, series, compact }) {
  const weeks = mix.weeks;
  const now = weeks[weeks.length - 1].counts;
  const first = weeks[0];
  return (
    <>
      {compact ? null : <Figures label={`${title}: now`} items={series.map((s) => [s.label, now[s.key]])} />}
      <WeeklyChart title={title} weeks={weeks} series={series} value={(w, key) => w.counts[key]}
        summary={`now ${describe(series, now)}; at the end of the week of ${weekStartText(first)}: ${describe(series, first.counts)}.`} />
    </>
  );
}

export function FallsRiskMix({ report, compact }) {
  return <MixChart title="Caseload by falls risk" mix={report.falls_risk} series={FALLS_SERIES} compact={compact} />;
}

export function ActivationMix({ report, compact }) {
  return <MixChart title="Caseload by activation level" mix={report.activation} series={ACTIVATION_SERIES} compact={compact} />;
}

export function OptOutNote({ report }) {
  const n = report.left_out.risk_profiling_opt_out;
  return (
    <p class="hint">
      {report.patients} patients counted. {n ? `${n} patient${n === 1 ? ' who has' : 's who have'} opted out of risk profiling ${n === 1 ? 'is' : 'are'} left out.` : 'Nobody has opted out of risk profiling.'}
    </p>
  );
}

function weekPoints(weeks, valueOf) {
  return weeks.map((w) => ({ date: w.start, value: valueOf(w) })).filter((p) => p.value !== null && p.value !== undefined);
}

function ticks(max, format = String) {
  return [0, max / 2, max].map((value) => ({ value, label: format(value) }));
}

export function EscalationsRaised({ report, compact }) {
  const weeks = report.weeks;
  const now = weeks[weeks.length - 1].raised;
  const total = report.all_weeks;
  const urgent = weekPoints(weeks, (w) => w.median_minutes_to_acknowledge.urgent);
  const top = Math.max(60, ...urgent.map((p) => p.value));
  return (
    <>
      {compact ? null : <Figures label="Escalations raised this week" items={[
        ['raised this week', now.total],
        ...SEVERITY_SERIES.map((s) => [`${s.label.toLowerCase()} this week`, now[s.key]]),
      ]} />}
      <WeeklyChart title="Escalations raised per week" weeks={weeks} series={SEVERITY_SERIES}
        value={(w, key) => w.raised[key]}
        summary={`${total.raised.total} raised in ${weeks.length} weeks (${describe(SEVERITY_SERIES, total.raised)}); this week ${now.total}.`} />
      {/* Focusable: on a phone the table may scroll sideways inside its box. */}
      <div class="table-wrap" tabIndex={0} role="region" aria-label={`Time to acknowledge, last ${weeks.length} weeks`}>
        <table class="table table--report">
          <caption>Time to acknowledge, last {weeks.length} weeks</caption>
          <thead><tr><th scope="col">Severity</th><th scope="col">Raised</th><th scope="col">Acknowledged</th><th scope="col">Median wait</th></tr></thead>
          <tbody>
            {SEVERITY_SERIES.map((s) => (
              <tr key={s.key}><th scope="row">{s.label}</th><td>{total.raised[s.key]}</td><td>{total.acknowledged[s.key]}</td><td>{duration(total.median_minutes_to_acknowledge[s.key])}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <TrendChart title="Urgent escalations: median time to acknowledge by week" points={urgent}
        yMin={0} yMax={top} yTicks={ticks(top, (v) => duration(v))} valueText={(p) => duration(p.value)}
        summary={urgent.length ? `latest ${duration(urgent[urgent.length - 1].value)}.` : 'none acknowledged.'} />
    </>
  );
}

export function VisitsPerWeek({ report, compact }) {
  const weeks = report.weeks;
  const now = weeks[weeks.length - 1];
  const late = weekPoints(weeks, (w) => w.late_synced);
  const top = Math.max(4, ...late.map((p) => p.value));
  const sum = (key) => weeks.reduce((n, w) => n + w[key], 0);
  return (
    <>
      {compact ? null : <Figures label="Visits this week" items={[
        ['completed this week', now.completed], ['no access this week', now.no_access],
        ['late-synced this week', now.late_synced],
      ]} />}
      <WeeklyChart title="Visits completed and no access per week" weeks={weeks} series={VISIT_SERIES}
        value={(w, key) => w[key]}
        summary={`${sum('completed')} completed and ${sum('no_access')} no access in ${weeks.length} weeks; this week ${now.completed} completed, ${now.no_access} no access.`} />
      {compact ? null : <TrendChart title={`Visits synced more than ${report.late_sync_hours} hours after they ended`} points={late}
        yMin={0} yMax={top} yTicks={ticks(top)} valueText={(p) => String(p.value)}
        summary={`${sum('late_synced')} in ${weeks.length} weeks; this week ${now.late_synced}.`} />}
    </>
  );
}
