// NHS number: normalise and check with Modulus 11 — twin of server/clinical/nhs_number.py.
// Digits 1-9 x weights 10..2, summed; check = 11 - (sum mod 11); 11 -> 0; 10 -> invalid;
// the check must equal digit 10. Only spaces and hyphens are ignored in input.
import { nhsNumber as spec } from './instruments.js';
import { fill } from './format.js';

const DIGITS = /^[0-9]+$/;

export function normaliseNhsNumber(raw) {
  return [...String(raw)].filter((ch) => !spec.ignore_characters.includes(ch)).join('');
}

/** The check digit for nine digits, or null when it would be 10 (never issued). */
export function nhsCheckDigit(firstNine) {
  if (firstNine.length !== spec.weights.length || !DIGITS.test(firstNine)) {
    throw new Error('nhsCheckDigit needs exactly nine digits');
  }
  const total = spec.weights.reduce((sum, w, i) => sum + Number(firstNine[i]) * w, 0);
  const check = 11 - (total % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/** {code, message} saying what is wrong, or null if the number is valid. */
export function nhsNumberProblem(raw) {
  if (typeof raw !== 'string') return { code: 'not_digits', message: spec.messages.not_digits };
  const digits = normaliseNhsNumber(raw);
  if (digits === '') return { code: 'empty', message: spec.messages.empty };
  if (!DIGITS.test(digits)) return { code: 'not_digits', message: spec.messages.not_digits };
  if (digits.length !== spec.length) {
    return {
      code: 'wrong_length',
      message: fill(spec.messages.wrong_length, { length: digits.length }),
    };
  }
  const expected = nhsCheckDigit(digits.slice(0, 9));
  if (expected === null) return { code: 'check_digit_10', message: spec.messages.check_digit_10 };
  if (expected !== Number(digits[9])) {
    return { code: 'check_digit_mismatch', message: spec.messages.check_digit_mismatch };
  }
  return null;
}

export function isValidNhsNumber(raw) {
  return nhsNumberProblem(raw) === null;
}

/** '9434765919' -> '943 476 5919', or null if invalid. */
export function formatNhsNumber(raw) {
  if (!isValidNhsNumber(raw)) return null;
  const d = normaliseNhsNumber(raw);
  return `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
}
