/**
 * Which patient the patient/carer screens are about: a patient's own record; for a
 * carer linked to several people, the one they chose (remembered on this device).
 */
import { all } from '../../lib/queries.js';
import { getMeta, setMeta } from '../../lib/db.js';

export async function myPatients(user) {
  const patients = await all('patient');
  if (user.role === 'patient') {
    const own = patients.find((p) => p.id === user.patient_id) || patients[0];
    return { patients: own ? [own] : [], current: own || null };
  }
  const chosen = await getMeta('chosen_patient_id', null);
  const current = patients.find((p) => p.id === chosen) || patients[0] || null;
  return { patients, current };
}

export function choosePatient(id) {
  return setMeta('chosen_patient_id', id);
}
