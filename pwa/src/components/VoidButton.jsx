/**
 * "Entered in error": append-only records are never edited, only voided once with a
 * reason (SPEC §2). The reason is asked for before anything is queued.
 */
import { useState } from 'preact/hooks';
import { updateRecord } from '../lib/outbox.js';
import { TextField } from './fields.jsx';

export function VoidButton({ record }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) {
    return <button type="button" class="linkbutton" onClick={() => setOpen(true)}>Mark as entered in error</button>;
  }
  const submit = async (event) => {
    event.preventDefault();
    if (!reason.trim()) return;
    await updateRecord(record.entity, record.id, { entered_in_error: true, void_reason: reason.trim() });
    setOpen(false);
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <TextField name="void_reason" label="Why was this entered in error?" value={reason} onInput={setReason} required />
      <button type="submit" class="button button--warning">Mark as entered in error</button>{' '}
      <button type="button" class="button button--secondary" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}
