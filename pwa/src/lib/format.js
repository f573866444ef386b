/** Formatting for people (en-GB) and conversions between form inputs and the wire. */

const dateFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
const dayFmt = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

function asDate(value) {
  if (!value) return null;
  const date = /^\d{4}-\d\d-\d\d$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const formatDate = (value) => (asDate(value) ? dateFmt.format(asDate(value)) : '—');
export const formatDay = (value) => (asDate(value) ? dayFmt.format(asDate(value)) : '—');
export const formatTime = (value) => (asDate(value) ? timeFmt.format(asDate(value)) : '—');
export const formatDateTime = (value) => (asDate(value) ? `${dateFmt.format(asDate(value))}, ${timeFmt.format(asDate(value))}` : '—');

export function formatRelative(value, now = Date.now()) {
  const date = asDate(value);
  if (!date) return 'never';
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  return formatDateTime(value);
}

/** The device's local calendar date as YYYY-MM-DD. */
export function localDate(date = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function addDays(isoDate, days) {
  const date = new Date(`${isoDate}T12:00:00`);
  date.setDate(date.getDate() + days);
  return localDate(date);
}

/** ISO instant → value for <input type="datetime-local"> in local time. */
export function toLocalInput(value) {
  const date = asDate(value) || new Date();
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/** <input type="datetime-local"> value → ISO 8601 instant (UTC, with offset). */
export function fromLocalInput(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function formatNhsNumber(value) {
  const digits = String(value || '').replace(/\D/g, '');
  return digits.length === 10 ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : digits || '—';
}

export function ageOn(dateOfBirth, today = new Date()) {
  const dob = asDate(dateOfBirth);
  if (!dob) return null;
  let age = today.getFullYear() - dob.getFullYear();
  const beforeBirthday = today.getMonth() < dob.getMonth() || (today.getMonth() === dob.getMonth() && today.getDate() < dob.getDate());
  if (beforeBirthday) age -= 1;
  return age;
}

export function fullName(patient) {
  const data = patient && (patient.data || patient);
  if (!data) return 'Unknown patient';
  return [data.given_name, data.family_name].filter(Boolean).join(' ') || 'Unnamed patient';
}

/** A value of any type as short text (conflict values, rejected fields). */
export function showValue(value) {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (Array.isArray(value)) return value.length ? value.map(showValue).join(', ') : '(none)';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Text typed by a person → a value of the same type as `like` (for corrections). */
export function parseLike(text, like) {
  if (typeof like === 'number') return text.trim() === '' ? null : Number(text);
  if (typeof like === 'boolean') return /^(yes|true|1)$/i.test(text.trim());
  if (Array.isArray(like) || (like && typeof like === 'object')) {
    try {
      return JSON.parse(text);
    } catch {
      return Array.isArray(like) ? text.split(';').map((s) => s.trim()).filter(Boolean) : text;
    }
  }
  return text;
}

/** A value → text a person can edit (the inverse of parseLike). */
export function editableText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
