/**
 * editForm.js: how every screen edits a record it shows (SPEC §3.2: `fields` holds only
 * the fields changed, `base_version` is the version the edit was made on).
 *
 * A form remembers the record as it *opened* on it: its version and values. While it
 * is open a pull may bring another device's change; saving then sends only the fields
 * the person changed, compared with what they opened, and bases them on the version
 * they opened. So the server sees their edit exactly as it was made: another device's
 * change to a different field survives, and one to the same field is a conflict, never
 * a silent overwrite. One-click actions on a record as it is shown (start a visit,
 * pause a reminder, acknowledge) are the same thing with the form opened at the click.
 */
import { useState } from 'preact/hooks';
import { updateRecord } from './outbox.js';
import { SessionChanged } from './tabs.js';

/** What a form opened on: the record's key, its server version and its values. */
export function openedOn(record) {
  return { entity: record.entity, id: record.id, version: record.version, data: { ...record.data } };
}

/** Only the fields of `after` that differ from `before` (undefined means "not in the form"). */
export function changedFields(before, after) {
  const out = {};
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    // A text box left blank over a field the record never had is not a change: sending
    // it would overwrite (or conflict with) a value another device has set meanwhile.
    if (value === '' && (before[key] === undefined || before[key] === null)) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) out[key] = value;
  }
  return out;
}

/**
 * Queue the fields of `after` that differ from what the form opened on, based on the
 * version it opened on. Returns the fields queued ({} when nothing changed: no
 * mutation), or null when the tab's session changed (nothing queued; the app says so).
 */
export async function saveEdit(opened, after) {
  const fields = changedFields(opened.data, after);
  if (!Object.keys(fields).length) return fields;
  try {
    await updateRecord(opened.entity, opened.id, fields, { baseVersion: opened.version });
  } catch (err) {
    if (err instanceof SessionChanged) return null;
    throw err;
  }
  return fields;
}

/** A one-click change to a record as the screen shows it now. */
export function editRecord(record, after) {
  return saveEdit(openedOn(record), after);
}

/**
 * Form state for editing `record`: `values` start from `toValues(record.data)` and stay
 * what the person typed, whatever pulls bring meanwhile. `save(extra)` queues the changed
 * fields of `{...toFields(values), ...extra}`; the form then counts as opened on what it
 * saved (a second save does not resend), still on the version it opened on. A
 * different record (another id at the same route) opens afresh.
 */
export function useEditForm(record, { toValues = () => ({}), toFields = () => ({}) } = {}) {
  const open = () => {
    const opened = openedOn(record);
    const values = toValues(record.data);
    // Compare like with like: the form's fields as they would be saved unchanged.
    opened.data = { ...opened.data, ...toFields(values) };
    return { key: `${record.entity}/${record.id}`, opened, values };
  };
  const [state, setState] = useState(open);
  let current = state;
  if (state.key !== `${record.entity}/${record.id}`) {
    current = open();
    setState(current);
  }
  const set = (name) => (value) => setState((s) => ({ ...s, values: { ...s.values, [name]: value } }));
  const save = async (extra = {}) => {
    const fields = await saveEdit(current.opened, { ...toFields(current.values), ...extra });
    if (fields) setState((s) => ({ ...s, opened: { ...s.opened, data: { ...s.opened.data, ...fields } } }));
    return fields;
  };
  return {
    values: current.values,
    set,
    setValues: (values) => setState((s) => ({ ...s, values })),
    save,
    opened: current.opened,
  };
}
