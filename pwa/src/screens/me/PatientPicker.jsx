/** For carers linked to more than one person: whose goals and visits to show. */
import { SelectField } from '../../components/fields.jsx';
import { fullName } from '../../lib/format.js';
import { choosePatient } from './context.js';

export function PatientPicker({ ctx }) {
  if (!ctx || ctx.patients.length < 2) return null;
  return (
    <SelectField name="patient" label="Showing" required value={ctx.current ? ctx.current.id : ''} onInput={choosePatient}
      options={Object.fromEntries(ctx.patients.map((p) => [p.id, fullName(p)]))} />
  );
}

export function NoPatient({ user }) {
  return (
    <p>
      {user.role === 'carer'
        ? 'No one is linked to your account yet, or their records have not reached this device. Sync when you have a connection.'
        : 'Your record has not reached this device yet. Sync when you have a connection.'}
    </p>
  );
}
