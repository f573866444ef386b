/**
 * Staff: record a Patient Activation Measure score from the licensed tool. The
 * questionnaire is licensed and never shown here; the level is derived live.
 */
import { useState } from 'preact/hooks';
import { Page } from '../../components/Page.jsx';
import { TextField, SelectField, ErrorSummary, useForm } from '../../components/fields.jsx';
import { ActivationBadge } from '../../components/Badge.jsx';
import { PatientBanner } from '../../components/PatientBanner.jsx';
import { useLive } from '../../lib/hooks.js';
import { one } from '../../lib/queries.js';
import { createRecord } from '../../lib/outbox.js';
import { navigate } from '../../lib/router.js';
import { activationLevel, activationLevelLabel } from '../../lib/instruments.js';
import { toLocalInput, fromLocalInput, fullName } from '../../lib/format.js';

function problems(values) {
  const errors = {};
  const score = Number(values.score);
  if (values.score === '' || Number.isNaN(score) || score < 0 || score > 100) errors.score = 'Enter the score as a number from 0 to 100.';
  else if (!/^\d{1,3}(\.\d)?$/.test(values.score.trim())) errors.score = 'Enter the score with at most one decimal place (for example 52.3).';
  if (!values.source.trim()) errors.source = 'Say which licensed tool produced the score.';
  return errors;
}

export function ActivationForm({ patientId }) {
  const patient = useLive(() => one('patient', patientId), [patientId], null);
  const form = useForm({ assessed_at: toLocalInput(new Date().toISOString()), score: '', source_level: '', source: 'PAM-13 (licensed tool)' });
  const [tried, setTried] = useState(false);
  const { values, set } = form;
  const errors = problems(values);
  const derived = errors.score ? null : activationLevel(values.score, values.source_level);
  const submit = async (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(errors).length) return;
    const fields = { patient_id: patientId, assessed_at: fromLocalInput(values.assessed_at), score: Number(values.score), source: values.source.trim() };
    if (values.source_level) fields.source_level = Number(values.source_level);
    await createRecord('activation_score', fields);
    navigate(`/patients/${patientId}`, { replace: true });
  };
  const shown = tried ? errors : {};
  return (
    <Page title="Record activation score" lead={patient ? fullName(patient) : ''}>
      <PatientBanner patientId={patientId} />
      <p>Enter the score produced by the licensed Patient Activation Measure tool. Doorstep does not show the questionnaire.</p>
      <form onSubmit={submit} class="stack" noValidate>
        <ErrorSummary errors={shown} />
        <TextField name="assessed_at" type="datetime-local" label="Assessed at" value={values.assessed_at} onInput={set('assessed_at')} required />
        <TextField name="score" inputMode="decimal" label="Score (0–100)" hint="As reported by the tool, with up to one decimal place." value={values.score} onInput={set('score')} required error={shown.score} />
        <SelectField name="source_level" label="Level reported by the tool" placeholder="Not reported" options={{ 1: 'Level 1', 2: 'Level 2', 3: 'Level 3', 4: 'Level 4' }} value={values.source_level} onInput={set('source_level')} />
        <TextField name="source" label="Source" hint="The licensed tool and version" value={values.source} onInput={set('source')} required error={shown.source} />
        <div class="result" aria-live="polite">
          {derived ? (
            <>
              <p><ActivationBadge level={derived.level} /></p>
              <p>{activationLevelLabel(derived.level)}</p>
              {derived.level_mismatch ? <p class="flag">The tool reported level {values.source_level}, but the score gives level {derived.level}. Both are kept and the record is flagged.</p> : null}
            </>
          ) : <p>Enter a score to see its level.</p>}
        </div>
        <button class="button" type="submit">Save score</button>
      </form>
    </Page>
  );
}
