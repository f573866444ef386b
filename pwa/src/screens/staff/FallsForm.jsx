/**
 * Staff: a falls assessment (all SPEC §2 fields, multifactorial domains included) with
 * the World Falls Guidelines stratification shown live as answers change. The result
 * is computed by the shared instrument code; the server computes it again on sync.
 */
import { useState } from 'preact/hooks';
import { Page, Section } from '../../components/Page.jsx';
import { TextField, SelectField, YesNo, ErrorSummary, useForm } from '../../components/fields.jsx';
import { FallsBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { PreviousFallsAnswers } from './AssessmentView.jsx';
import { useLive } from '../../lib/hooks.js';
import { one, ofPatient, sortNewest } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { navigate, queryParam } from '../../lib/router.js';
import { stratifyFalls, fallsProblems, fesIBand, FALLS_TITLE } from '../../lib/instruments.js';
import { toLocalInput, fromLocalInput, fullName, formatDateTime } from '../../lib/format.js';
import { MULTIFACTORIAL_DOMAIN, MULTIFACTORIAL_VALUE, VISIT_TYPE, label } from '../../lib/labels.js';

const CFS = { 1: '1 Very fit', 2: '2 Fit', 3: '3 Managing well', 4: '4 Living with very mild frailty', 5: '5 Living with mild frailty',
  6: '6 Living with moderate frailty', 7: '7 Living with severe frailty', 8: '8 Living with very severe frailty', 9: '9 Terminally ill' };

const num = (value) => (value === '' || value === null || value === undefined ? undefined : Number(value));

/** The record's fields from the form's values (blank optional answers left out). */
export function assessmentFields(values, patientId) {
  const falls = num(values.falls_last_12_months);
  const hadFall = falls > 0;
  const fields = {
    patient_id: patientId,
    assessed_at: fromLocalInput(values.assessed_at),
    falls_last_12_months: falls,
    fall_injury: hadFall ? values.fall_injury : false,
    unable_to_get_up: hadFall ? values.unable_to_get_up : false,
    lost_consciousness: hadFall ? values.lost_consciousness : false,
    feels_unsteady: values.feels_unsteady,
    worried_about_falling: values.worried_about_falling,
    frailty_cfs: num(values.frailty_cfs),
    tug_seconds: num(values.tug_seconds),
    gait_speed_m_s: num(values.gait_speed_m_s),
    short_fes_i: num(values.short_fes_i),
    multifactorial: { ...values.multifactorial },
  };
  if (values.visit_id) fields.visit_id = values.visit_id;
  for (const key of Object.keys(fields)) if (fields[key] === undefined || fields[key] === null) delete fields[key];
  return fields;
}

/** What still needs answering, in the instrument's own words (same as the server's). */
function missing(values, patientId) {
  const errors = fallsProblems(assessmentFields(values, patientId));
  if (values.short_fes_i !== '' && !fesIBand(values.short_fes_i)) errors.short_fes_i = 'The Short FES-I total is a whole number from 7 to 28.';
  return errors;
}

export function Result({ result }) {
  return (
    <div class="result" aria-live="polite" aria-atomic="true">
      <h2>{FALLS_TITLE}</h2>
      <p class="hint">This is stratification to match the intensity of intervention to need. It is not a prediction of whether this person will fall.</p>
      {result ? (
        <>
          <p class="result__level"><FallsBadge level={result.risk_level} /></p>
          {result.reasons.length ? <><h3>Because</h3><ul>{result.reasons.map((r) => <li key={r}>{r}</li>)}</ul></> : null}
          {result.recommended_actions.length ? <><h3>Recommended actions</h3><ul>{result.recommended_actions.map((r) => <li key={r}>{r}</li>)}</ul></> : null}
          {result.notes && result.notes.length ? <><h3>Notes</h3><ul>{result.notes.map((r) => <li key={r}>{r}</li>)}</ul></> : null}
        </>
      ) : <p>Answer the questions above to see the stratification.</p>}
    </div>
  );
}

export function FallsForm({ patientId }) {
  const context = useLive(async () => ({
    patient: await one('patient', patientId),
    visits: sortNewest(await ofPatient('visit', patientId), 'scheduled_start').slice(0, 10),
  }), [patientId], null);
  const form = useForm({
    assessed_at: toLocalInput(new Date().toISOString()),
    visit_id: queryParam('visit') || '',
    falls_last_12_months: '', fall_injury: null, unable_to_get_up: null, lost_consciousness: null,
    feels_unsteady: null, worried_about_falling: null, frailty_cfs: '', tug_seconds: '', gait_speed_m_s: '', short_fes_i: '',
    multifactorial: Object.fromEntries(Object.keys(MULTIFACTORIAL_DOMAIN).map((d) => [d, 'not_assessed'])),
  });
  const [tried, setTried] = useState(false);
  const { values, set } = form;
  const problems = missing(values, patientId);
  const result = Object.keys(problems).length ? null : stratifyFalls(assessmentFields(values, patientId));
  const band = fesIBand(values.short_fes_i);
  const hadFall = Number(values.falls_last_12_months) > 0;
  const shownErrors = tried ? problems : {};
  const setDomain = (domain) => (value) => form.setValues((v) => ({ ...v, multifactorial: { ...v.multifactorial, [domain]: value } }));

  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(problems).length) return;
    await createRecord('falls_assessment', assessmentFields(values, patientId));
    navigate(`/patients/${patientId}`, { replace: true });
  };

  return (
    <Page title="Falls assessment" lead={context && context.patient ? fullName(context.patient) : ''} wide>
      <PatientBanner patientId={patientId} />
      <form onSubmit={submit} class="stack" noValidate>
        <ErrorSummary errors={shownErrors} />
        <div class="grid">
          <div>
            <TextField name="assessed_at" type="datetime-local" label="Assessed at" value={values.assessed_at} onInput={set('assessed_at')} required />
            <SelectField name="visit_id" label="Visit" placeholder="Not linked to a visit" value={values.visit_id} onInput={set('visit_id')}
              options={Object.fromEntries((context?.visits || []).map((v) => [v.id, `${formatDateTime(v.data.scheduled_start)} — ${label(VISIT_TYPE, v.data.visit_type)}`]))} />
            <TextField name="falls_last_12_months" type="number" inputMode="numeric" min="0" step="1" label="Falls in the last 12 months" value={values.falls_last_12_months} onInput={set('falls_last_12_months')} required error={shownErrors.falls_last_12_months} />
            {hadFall ? (
              <>
                <YesNo name="fall_injury" label="Injured in a fall?" value={values.fall_injury} onInput={set('fall_injury')} required error={shownErrors.fall_injury} />
                <YesNo name="unable_to_get_up" label="Unable to get up after a fall without help?" value={values.unable_to_get_up} onInput={set('unable_to_get_up')} required error={shownErrors.unable_to_get_up} />
                <YesNo name="lost_consciousness" label="Lost consciousness or suspected blackout with a fall?" value={values.lost_consciousness} onInput={set('lost_consciousness')} required error={shownErrors.lost_consciousness} />
              </>
            ) : null}
            <YesNo name="feels_unsteady" label="Feels unsteady when standing or walking?" value={values.feels_unsteady} onInput={set('feels_unsteady')} required error={shownErrors.feels_unsteady} />
            <YesNo name="worried_about_falling" label="Worried about falling?" value={values.worried_about_falling} onInput={set('worried_about_falling')} required error={shownErrors.worried_about_falling} />
            <SelectField name="frailty_cfs" label="Clinical Frailty Scale" placeholder="Not recorded" options={CFS} value={values.frailty_cfs} onInput={set('frailty_cfs')} />
            <TextField name="tug_seconds" type="number" inputMode="decimal" min="1" max="300" step="0.1" label="Timed Up and Go (seconds)" value={values.tug_seconds} onInput={set('tug_seconds')} />
            <TextField name="gait_speed_m_s" type="number" inputMode="decimal" min="0.01" max="3" step="0.01" label="Gait speed (metres per second)" value={values.gait_speed_m_s} onInput={set('gait_speed_m_s')} />
            <TextField name="short_fes_i" type="number" inputMode="numeric" min="7" max="28" step="1" label="Short FES-I total (7–28)" value={values.short_fes_i} onInput={set('short_fes_i')}
              hint={band ? `Band: ${band.label || band.band}` : 'Concern about falling, from the 7-item Short FES-I.'} error={shownErrors.short_fes_i} />
          </div>
          <div>
            <Result result={result} />
            <PreviousFallsAnswers patientId={patientId} />
          </div>
        </div>
        <Section title="Multifactorial assessment" id="multifactorial">
          <div class="grid grid--compact">
            {Object.entries(MULTIFACTORIAL_DOMAIN).map(([domain, text]) => (
              <SelectField key={domain} name={`mf_${domain}`} label={text} options={MULTIFACTORIAL_VALUE} value={values.multifactorial[domain]} onInput={setDomain(domain)} required />
            ))}
          </div>
        </Section>
        <div class="actions">
          <button class="button" type="submit">Save assessment</button>
          <a class="button button--secondary" href={`/patients/${patientId}`}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}
