/**
 * Labelled form controls. Every input has a visible <label>; hints and errors are tied
 * to it with aria-describedby; errors say "Error:" in text, not only in red.
 */
import { fieldLabel } from '../lib/labels.js';
import { useState } from 'preact/hooks';

let counter = 0;
const uid = (name) => `f-${name}-${(counter += 1)}`;

/** Form state: values, a setter per field, and server or local field errors. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const set = (name) => (value) => setValues((current) => ({ ...current, [name]: value }));
  return { values, setValues, set, errors, setErrors };
}

function describedBy(id, hint, error) {
  return [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
}

function Messages({ id, hint, error }) {
  return (
    <>
      {hint ? <div class="hint" id={`${id}-hint`}>{hint}</div> : null}
      {error ? (
        <div class="field-error" id={`${id}-error`}>
          <span class="visually-hidden">Error: </span>
          {Array.isArray(error) ? error.join(' ') : typeof error === 'object' ? JSON.stringify(error) : error}
        </div>
      ) : null}
    </>
  );
}

export function TextField({ name, label, value, onInput, hint, error, type = 'text', required, multiline, markOptional = true, ...rest }) {
  const [id] = useState(() => uid(name));
  const Tag = multiline ? 'textarea' : 'input';
  return (
    <div class={error ? 'field field--error' : 'field'}>
      <label for={id}>{label}{required || !markOptional ? null : <span class="optional"> (optional)</span>}</label>
      <Messages id={id} hint={hint} error={error} />
      <Tag
        id={id}
        name={name}
        type={multiline ? undefined : type}
        value={value ?? ''}
        required={required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(e) => onInput(e.currentTarget.value)}
        rows={multiline ? 4 : undefined}
        {...rest}
      />
    </div>
  );
}

export function SelectField({ name, label, value, onInput, options, hint, error, required, placeholder }) {
  const [id] = useState(() => uid(name));
  return (
    <div class={error ? 'field field--error' : 'field'}>
      <label for={id}>{label}{required ? null : <span class="optional"> (optional)</span>}</label>
      <Messages id={id} hint={hint} error={error} />
      <select id={id} name={name} value={value ?? ''} required={required} aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)} onChange={(e) => onInput(e.currentTarget.value)}>
        {placeholder !== undefined ? <option value="">{placeholder}</option> : null}
        {Object.entries(options).map(([code, text]) => <option key={code} value={code}>{text}</option>)}
      </select>
    </div>
  );
}

/** Yes / No (and optionally "not answered") as a radio group. value: true | false | null. */
export function YesNo({ name, label, value, onInput, hint, error, required }) {
  const [id] = useState(() => uid(name));
  return (
    <fieldset class={error ? 'field field--error choice' : 'field choice'} aria-describedby={describedBy(id, hint, error)}>
      <legend>{label}{required ? null : <span class="optional"> (optional)</span>}</legend>
      <Messages id={id} hint={hint} error={error} />
      <div class="choice__options choice__options--inline">
        {[[true, 'Yes'], [false, 'No']].map(([option, text]) => (
          <label class="choice__option" key={text}>
            <input type="radio" name={id} checked={value === option} onChange={() => onInput(option)} />
            <span>{text}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Radios({ name, label, value, onInput, options, hint, error, inline }) {
  const [id] = useState(() => uid(name));
  return (
    <fieldset class={error ? 'field field--error choice' : 'field choice'} aria-describedby={describedBy(id, hint, error)}>
      <legend>{label}</legend>
      <Messages id={id} hint={hint} error={error} />
      <div class={inline ? 'choice__options choice__options--inline' : 'choice__options'}>
        {Object.entries(options).map(([code, text]) => (
          <label class="choice__option" key={code}>
            <input type="radio" name={id} value={code} checked={value === code} onChange={() => onInput(code)} />
            <span>{text}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Checkboxes({ name, label, values = [], onInput, options, hint, error }) {
  const [id] = useState(() => uid(name));
  const toggle = (code) => onInput(values.includes(code) ? values.filter((v) => v !== code) : [...values, code]);
  return (
    <fieldset class={error ? 'field field--error choice' : 'field choice'} aria-describedby={describedBy(id, hint, error)}>
      <legend>{label}</legend>
      <Messages id={id} hint={hint} error={error} />
      <div class="choice__options choice__options--inline">
        {Object.entries(options).map(([code, text]) => (
          <label class="choice__option" key={code}>
            <input type="checkbox" value={code} checked={values.includes(code)} onChange={() => toggle(code)} />
            <span>{text}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Checkbox({ label, checked, onInput, hint }) {
  const [id] = useState(() => uid('cb'));
  return (
    <div class="field">
      <label class="choice__option" for={id}>
        <input id={id} type="checkbox" checked={checked} onChange={(e) => onInput(e.currentTarget.checked)}
          aria-describedby={hint ? `${id}-hint` : undefined} />
        <span>{label}</span>
      </label>
      {hint ? <div class="hint" id={`${id}-hint`}>{hint}</div> : null}
    </div>
  );
}

/** A summary of errors at the top of a form, linking nowhere (fields show their own). */
export function ErrorSummary({ errors }) {
  const entries = Object.entries(errors || {});
  if (!entries.length) return null;
  return (
    <div class="error-summary" role="alert">
      <h2>There is a problem</h2>
      <ul>
        {entries.map(([field, message]) => (
          <li key={field}>{field === '_' || field === 'form' ? '' : `${fieldLabel(field)}: `}{Array.isArray(message) ? message.join(' ') : typeof message === 'object' ? JSON.stringify(message) : message}</li>
        ))}
      </ul>
    </div>
  );
}
