/**
 * Staff, read-only: one past falls assessment (its answers beside the previous
 * assessment's, changes marked in words) and one activation score. Append-only records
 * are never edited; a wrong one is voided from the patient's timeline.
 */
import { Page, Section, Notice } from '../../components/Page.jsx';
import { FallsBadge, ActivationBadge, PendingBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { useLive } from '../../lib/hooks.js';
import { one, ofPatient, notVoided, sortOldest } from '../../lib/queries.js';
import { fallsResultOf, activationOf, activationLevelLabel, FALLS_TITLE } from '../../lib/instruments.js';
import { instruments } from '../../clinical/index.js';
import { formatDateTime, showValue } from '../../lib/format.js';
import { MULTIFACTORIAL_DOMAIN, MULTIFACTORIAL_VALUE, RISK, fieldLabel, label } from '../../lib/labels.js';

const answerText = (value) => (value === null || value === undefined || value === '' ? 'Not recorded' : showValue(value));

/** [key, question, value → text] for every answer, in the instrument's order and words. */
export function fallsQuestions() {
  const answers = instruments.falls.answers;
  const rows = Object.entries(answers).map(([key, spec]) => [key, spec.label || fieldLabel(key), (d) => answerText(d[key])]);
  if (!answers.short_fes_i) rows.push(['short_fes_i', 'Short FES-I total (7–28)', (d) => answerText(d.short_fes_i)]);
  for (const [domain, text] of Object.entries(MULTIFACTORIAL_DOMAIN)) {
    rows.push([`mf_${domain}`, text, (d) => label(MULTIFACTORIAL_VALUE, (d.multifactorial || {})[domain] || 'not_assessed')]);
  }
  return rows;
}

/** The assessment before this one (not voided), or null. */
async function loadFalls(id) {
  const record = await one('falls_assessment', id);
  if (!record) return { record: null };
  const others = sortOldest((await ofPatient('falls_assessment', record.patient_id)).filter(notVoided), 'assessed_at');
  const before = others.filter((r) => r.id !== id && String(r.data.assessed_at) < String(record.data.assessed_at));
  return { record, previous: before[before.length - 1] || null };
}

/** Answers side by side: this assessment and the one before, changed rows marked. */
export function AnswersCompared({ current, previous, currentTitle, previousTitle }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Answers compared with the previous assessment">
      <table class="table compare-table">
        <caption class="visually-hidden">Answers compared with the previous assessment</caption>
        <thead><tr><th scope="col">Question</th>{previous ? <th scope="col">{previousTitle}</th> : null}<th scope="col">{currentTitle}</th></tr></thead>
        <tbody>
          {fallsQuestions().map(([key, question, text]) => {
            const now = current ? text(current) : '—';
            const then = previous ? text(previous) : null;
            const changed = previous && current && now !== then;
            return (
              <tr key={key} class={changed ? 'compare-table__changed' : undefined}>
                <th scope="row">{question}</th>
                {previous ? <td>{then}</td> : null}
                <td>{now}{changed ? <strong class="compare-table__mark"> (changed)</strong> : null}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function FallsView({ id }) {
  const d = useLive(() => loadFalls(id), [id], null);
  if (d === null) return <Page title="Falls assessment"><p>Loading…</p></Page>;
  if (!d.record) return <Page title="Falls assessment not found"><p>This assessment is not on this device.</p></Page>;
  const { record, previous } = d;
  const result = fallsResultOf(record);
  return (
    <Page title={`Falls assessment, ${formatDateTime(record.data.assessed_at)}`} wide actions={<PendingBadge record={record} />}>
      <PatientBanner patientId={record.patient_id} />
      <p><a class="tap-link" href={`/patients/${record.patient_id}`}>Back to the patient</a></p>
      {record.data.entered_in_error ? <Notice kind="warning">Entered in error{record.data.void_reason ? `: ${record.data.void_reason}` : ''}. Not counted in scores or reports.</Notice> : null}
      <Notice kind="info">Read only: a falls assessment is never changed. Record a new one to reassess.</Notice>
      <Section title={FALLS_TITLE} id="result">
        {result ? (
          <>
            <p class="result__level"><FallsBadge level={result.risk_level} local={result.local} /></p>
            {result.reasons.length ? <><h3>Because</h3><ul>{result.reasons.map((r) => <li key={r}>{r}</li>)}</ul></> : null}
            {result.recommended_actions.length ? <><h3>Recommended actions</h3><ul>{result.recommended_actions.map((r) => <li key={r}>{r}</li>)}</ul></> : null}
          </>
        ) : <p>No result: answers are incomplete.</p>}
      </Section>
      <Section title={previous ? 'Answers, with the previous assessment' : 'Answers (first assessment)'} id="answers">
        <AnswersCompared current={record.data} previous={previous && previous.data}
          currentTitle={`This assessment (${formatDateTime(record.data.assessed_at)})`}
          previousTitle={previous ? `Previous (${formatDateTime(previous.data.assessed_at)})` : ''} />
        {previous ? <p><a class="tap-link" href={`/falls/${previous.id}`}>Open the previous assessment</a></p> : null}
      </Section>
    </Page>
  );
}

/**
 * For the falls form (one line: `<PreviousFallsAnswers patientId={patientId} />`, in the
 * column beside the questions): the latest assessment's answers, open, so a reassessment
 * is made with the previous ones in view; it folds away with its summary.
 */
export function PreviousFallsAnswers({ patientId }) {
  const latest = useLive(async () => {
    const list = sortOldest((await ofPatient('falls_assessment', patientId)).filter(notVoided), 'assessed_at');
    return list[list.length - 1] || false;
  }, [patientId], null);
  if (!latest) return null;
  const result = fallsResultOf(latest);
  return (
    <details class="panel previous-answers" open>
      <summary>Previous assessment ({formatDateTime(latest.data.assessed_at)}{result ? `, falls risk ${label(RISK, result.risk_level).toLowerCase()}` : ''})</summary>
      <AnswersCompared current={latest.data} previous={null} currentTitle={`Previous (${formatDateTime(latest.data.assessed_at)})`} />
    </details>
  );
}

export function ActivationView({ id }) {
  const record = useLive(() => one('activation_score', id), [id], undefined);
  if (record === undefined) return <Page title="Activation score"><p>Loading…</p></Page>;
  if (!record) return <Page title="Activation score not found"><p>This score is not on this device.</p></Page>;
  const s = record.data;
  const act = activationOf(record);
  const rows = [
    ['Assessed', formatDateTime(s.assessed_at)], ['Score', showValue(s.score)],
    ['Level', act ? `${act.level}: ${activationLevelLabel(act.level)}` : '—'],
    ['Level reported by the tool', s.source_level ? String(s.source_level) : 'Not reported'], ['Source', s.source || '—'],
  ];
  return (
    <Page title={`Activation score, ${formatDateTime(s.assessed_at)}`} actions={<PendingBadge record={record} />}>
      <PatientBanner patientId={record.patient_id} />
      <p><a class="tap-link" href={`/patients/${record.patient_id}`}>Back to the patient</a></p>
      {s.entered_in_error ? <Notice kind="warning">Entered in error{s.void_reason ? `: ${s.void_reason}` : ''}. Not counted in scores or reports.</Notice> : null}
      <Notice kind="info">Read only: an activation score is never changed. Record a new one from the licensed tool.</Notice>
      <p><ActivationBadge level={act && act.level} mismatch={act && act.level_mismatch} /></p>
      <dl class="summary">{rows.map(([t, v]) => <div class="summary__row" key={t}><dt>{t}</dt><dd>{v}</dd></div>)}</dl>
    </Page>
  );
}
