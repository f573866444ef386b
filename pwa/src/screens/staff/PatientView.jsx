/** Staff: one patient — summary, trends, goals, visits and a timeline of everything. */
import { useState } from 'preact/hooks';
import { Page, Section, Empty } from '../../components/Page.jsx';
import { StatusBadge, PendingBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { TrendChart } from '../../components/TrendChart.jsx';
import { VoidButton } from '../../components/VoidButton.jsx';
import { useLive } from '../../lib/hooks.js';
import { one, ofPatient, notVoided, sortOldest, sortNewest } from '../../lib/queries.js';
import { fallsResultOf, activationOf } from '../../lib/instruments.js';
import { formatDate, formatDateTime, fullName } from '../../lib/format.js';
import { SEX, COMPLEXITY, VISIT_TYPE, VISIT_STATUS, GOAL_STATUS, RISK, SELF_REPORT_KIND, RULE, SEVERITY, label } from '../../lib/labels.js';

const RISK_VALUE = { low: 1, intermediate: 2, high: 3 };

async function load(patientId) {
  const entities = ['visit', 'visit_addendum', 'falls_assessment', 'activation_score', 'goal', 'goal_log', 'self_report', 'escalation'];
  const lists = await Promise.all(entities.map((e) => ofPatient(e, patientId)));
  const out = { patient: await one('patient', patientId) };
  entities.forEach((e, i) => { out[e] = lists[i]; });
  return out;
}

function timeline(d) {
  const items = [];
  const when = (r, key) => r.data[key] || r.updated_at || '';
  for (const v of d.visit) items.push({ at: when(v, 'scheduled_start'), r: v, text: `Visit: ${label(VISIT_TYPE, v.data.visit_type)} — ${label(VISIT_STATUS, v.data.status)}`, href: `/visits/${v.id}` });
  for (const a of d.visit_addendum) items.push({ at: when(a, 'created_at'), r: a, text: `Addendum: ${a.data.text}`, href: `/visits/${a.data.visit_id}` });
  for (const f of d.falls_assessment) {
    const result = fallsResultOf(f);
    items.push({ at: when(f, 'assessed_at'), r: f, text: `Falls assessment: ${result ? `${label(RISK, result.risk_level)} risk` : 'result pending'}`, href: `/falls/${f.id}`, voidable: true });
  }
  for (const s of d.activation_score) items.push({ at: when(s, 'assessed_at'), r: s, text: `Activation score ${s.data.score} (level ${activationOf(s)?.level ?? '?'})`, href: `/activation/${s.id}`, voidable: true });
  const goals = new Map(d.goal.map((g) => [g.id, g]));
  for (const l of d.goal_log) items.push({ at: when(l, 'date'), r: l, text: `Goal ${l.data.done ? 'done' : 'not done'}: ${goals.get(l.data.goal_id)?.data.title || 'goal'}${l.data.note ? ` — ${l.data.note}` : ''}`, voidable: true });
  for (const s of d.self_report) items.push({ at: when(s, 'happened_at'), r: s, text: `Reported: ${label(SELF_REPORT_KIND, s.data.kind)}${s.data.injured ? ', injured' : ''}${s.data.unable_to_get_up ? ', could not get up' : ''}${s.data.details ? ` — ${s.data.details}` : ''}`, voidable: true });
  for (const e of d.escalation) items.push({ at: when(e, 'created_at'), r: e, text: `Escalation (${label(SEVERITY, e.data.severity)}): ${label(RULE, e.data.rule)} — ${e.data.status}` });
  return items.sort((a, b) => String(b.at).localeCompare(String(a.at)));
}

function Summary({ patient }) {
  const p = patient.data;
  // Name, birth, NHS number, address, phone and access notes are in the banner above.
  const rows = [
    ['Sex', p.sex ? label(SEX, p.sex) : null],
    ['GP practice', [p.gp_practice, p.named_gp].filter(Boolean).join(' — ') || null],
    ['Complexity', p.complexity_tier ? label(COMPLEXITY, p.complexity_tier) : null],
  ].filter(([, value]) => value);
  return (
    <>
      <dl class="summary">
        {rows.map(([term, value]) => <div class="summary__row" key={term}><dt>{term}</dt><dd>{value}</dd></div>)}
      </dl>
      {p.sharing_objection ? <p class="flag">Sharing objection recorded: no carer access, left out of exports.</p> : null}
      {p.risk_profiling_opt_out ? <p class="flag">Opted out of risk stratification reports.</p> : null}
    </>
  );
}

const TIMELINE_PAGE = 40;

function Timeline({ items }) {
  const [shown, setShown] = useState(TIMELINE_PAGE);
  if (!items.length) return <Empty>Nothing recorded yet.</Empty>;
  return (
    <>
      <ol class="timeline">
        {items.slice(0, shown).map((item) => (
          <li key={`${item.r.entity}:${item.r.id}`} class={item.r.data.entered_in_error ? 'timeline__item timeline__item--void' : 'timeline__item'}>
            <span class="timeline__when">{formatDateTime(item.at)}</span>
            <span class="timeline__what">
              {item.href ? <a href={item.href}>{item.text}</a> : item.text}
              {item.r.data.entered_in_error ? <strong> — entered in error{item.r.data.void_reason ? `: ${item.r.data.void_reason}` : ''}</strong> : null}
              {' '}<PendingBadge record={item.r} />
            </span>
            {item.voidable && !item.r.data.entered_in_error ? <VoidButton record={item.r} /> : null}
          </li>
        ))}
      </ol>
      {items.length > shown ? (
        <button type="button" class="button button--secondary" onClick={() => setShown(shown + TIMELINE_PAGE)}>
          Show older entries ({items.length - shown} more)
        </button>
      ) : null}
    </>
  );
}

export function PatientView({ id }) {
  const d = useLive(() => load(id), [id], null);
  if (d === null) return <Page title="Patient"><p>Loading…</p></Page>;
  if (!d.patient) return <Page title="Patient not found"><p>This patient is not on this device. They may have left your caseload.</p></Page>;
  const falls = sortOldest(d.falls_assessment.filter(notVoided), 'assessed_at').map((r) => ({ r, res: fallsResultOf(r) })).filter((x) => x.res);
  const scores = sortOldest(d.activation_score.filter(notVoided), 'assessed_at');
  const latestFalls = falls[falls.length - 1];
  const latestScore = scores[scores.length - 1];
  const goals = d.goal.filter((g) => g.data.status !== 'stopped');
  const upcoming = sortNewest(d.visit, 'scheduled_start').slice(0, 8);
  return (
    <Page title={fullName(d.patient)} wide actions={<PendingBadge record={d.patient} />}>
      <PatientBanner patientId={id} />
      <nav aria-label="Record for this patient" class="actions">
        <a class="button" href={`/patients/${id}/falls/new`}>New falls assessment</a>
        <a class="button" href={`/patients/${id}/activation/new`}>Record activation score</a>
        <a class="button button--secondary" href={`/patients/${id}/goals`}>Goals</a>
        <a class="button button--secondary" href={`/patients/${id}/visits/new`}>New visit</a>
        <a class="button button--secondary" href={`/patients/${id}/invite`}>Invite to the app</a>
      </nav>
      <div class="grid">
        <Section title="Summary" id="summary"><Summary patient={d.patient} /></Section>
        <Section title="Trends" id="trends">
          <h3>Activation score</h3>
          <TrendChart title="Activation scores" points={scores.map((s) => ({ date: s.data.assessed_at, value: Number(s.data.score), level: activationOf(s)?.level }))}
            yMin={0} yMax={100} yTicks={[{ value: 0, label: '0' }, { value: 47, label: '47' }, { value: 67, label: '67' }, { value: 100, label: '100' }]}
            valueText={(p) => `${p.value} (level ${p.level ?? '?'})`}
            summary={latestScore ? `${scores.length} scores, latest ${latestScore.data.score} on ${formatDate(latestScore.data.assessed_at)}` : 'none'} />
          <h3>Falls risk</h3>
          <TrendChart title="Falls risk stratification" points={falls.map(({ r, res }) => ({ date: r.data.assessed_at, value: RISK_VALUE[res.risk_level], risk: res.risk_level }))}
            yMin={0.5} yMax={3.5} yTicks={[{ value: 1, label: 'Low' }, { value: 2, label: 'Inter.' }, { value: 3, label: 'High' }]}
            valueText={(p) => label(RISK, p.risk)}
            summary={latestFalls ? `${falls.length} assessments, latest ${label(RISK, latestFalls.res.risk_level)} on ${formatDate(latestFalls.r.data.assessed_at)}` : 'none'} />
        </Section>
        <Section title="Goals" id="goals">
          {goals.length === 0 ? <Empty>No goals yet.</Empty> : (
            <ul class="plain">
              {goals.map((g) => <li key={g.id}><a href={`/goals/${g.id}`}>{g.data.title}</a> — {label(GOAL_STATUS, g.data.status)}, {g.data.times_per_week}× a week</li>)}
            </ul>
          )}
        </Section>
        <Section title="Visits" id="visits">
          {upcoming.length === 0 ? <Empty>No visits.</Empty> : (
            <ul class="plain">
              {upcoming.map((v) => <li key={v.id}><a href={`/visits/${v.id}`}>{formatDateTime(v.data.scheduled_start)} — {label(VISIT_TYPE, v.data.visit_type)}</a> <StatusBadge status={v.data.status} table={VISIT_STATUS} /></li>)}
            </ul>
          )}
        </Section>
        <Section title="Past assessments" id="assessments">
          <h3>Falls assessments</h3>
          {falls.length === 0 ? <Empty>None yet.</Empty> : (
            <ul class="plain">
              {[...falls].reverse().map(({ r, res }) => <li key={r.id}><a href={`/falls/${r.id}`}>{formatDateTime(r.data.assessed_at)} — {label(RISK, res.risk_level)} falls risk</a></li>)}
            </ul>
          )}
          <h3>Activation scores</h3>
          {scores.length === 0 ? <Empty>None yet.</Empty> : (
            <ul class="plain">
              {[...scores].reverse().map((s) => <li key={s.id}><a href={`/activation/${s.id}`}>{formatDateTime(s.data.assessed_at)} — score {s.data.score}, level {activationOf(s)?.level ?? '?'}</a></li>)}
            </ul>
          )}
        </Section>
      </div>
      <Section title="Timeline" id="timeline"><Timeline items={timeline(d)} /></Section>
    </Page>
  );
}
