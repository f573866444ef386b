/** For carers linked to more than one person: whose goals and visits to show. */
import { SelectField } from '../../components/fields.jsx';
import { fullName } from '../../lib/format.js';
import { choosePatient } from './context.js';

export function PatientPicker({ ctx }) {
  if (!ctx || ctx.patients.length < 2) return null;
  return (
    <SelectField name="patient" label="Whose details to show" required value={ctx.current ? ctx.current.id : ''} onInput={choosePatient}
      options={Object.fromEntries(ctx.patients.map((p) => [p.id, fullName(p)]))} />
  );
}

export function NoPatient({ user }) {
  return (
    <p>
      {user.role === 'carer'
        ? 'We cannot show anyone’s details yet. Connect to the internet and wait a moment. If nothing appears, ask your nurse to link you to the person you care for.'
        : 'Your details are not on this device yet. Connect to the internet and wait a moment.'}
    </p>
  );
}
