/**
 * "Entered in error": append-only records are never edited, only voided once with a
 * reason (SPEC §2). The reason is asked for before anything is queued.
 */
import { useState } from 'preact/hooks';
import { openedOn, saveEdit } from '../lib/editForm.js';
import { TextField } from './fields.jsx';

export function VoidButton({ record }) {
  const [opened, setOpened] = useState(null); // the record as the form opened on it
  const [reason, setReason] = useState('');
  if (!opened) {
    return <button type="button" class="linkbutton" onClick={() => setOpened(openedOn(record))}>Mark as entered in error</button>;
  }
  const submit = async (event) => {
    event.preventDefault();
    if (!reason.trim()) return;
    await saveEdit(opened, { entered_in_error: true, void_reason: reason.trim() });
    setOpened(null);
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <TextField name="void_reason" label="Why was this entered in error?" value={reason} onInput={setReason} required />
      <button type="submit" class="button button--warning">Mark as entered in error</button>{' '}
      <button type="button" class="button button--secondary" onClick={() => setOpened(null)}>Cancel</button>
    </form>
  );
}
