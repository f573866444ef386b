import { describe, expect, it } from 'vitest';
import vectors from '../../../instruments/vectors/nhs_number.json' with { type: 'json' };
import {
  formatNhsNumber,
  isValidNhsNumber,
  nhsCheckDigit,
  nhsNumberProblem,
  normaliseNhsNumber,
} from './nhsNumber.js';

describe('NHS number vectors (shared with pytest)', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const problem = nhsNumberProblem(c.input);
    if (c.expected.valid) {
      expect(problem).toBeNull();
      expect(normaliseNhsNumber(c.input).trim()).toBe(c.expected.normalised);
    } else {
      expect(problem?.code).toBe(c.expected.error);
      expect(problem.message.length).toBeGreaterThan(10);
    }
  });
});

describe('NHS number by hand (SPEC §4 worked examples)', () => {
  it('943 476 591: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299, 299 mod 11 = 2, check 9', () => {
    expect(nhsCheckDigit('943476591')).toBe(9);
    expect(isValidNhsNumber('9434765919')).toBe(true);
  });
  it('remainder 0 gives 11, which becomes check digit 0', () => {
    // 9*10+9*9+9*8+5*2 = 253 = 23 * 11
    expect(nhsCheckDigit('999000005')).toBe(0);
  });
  it('remainder 1 gives 10: never issued, so invalid whatever digit 10 is', () => {
    // 9*10+9*9+9*8 = 243 = 22*11 + 1
    expect(nhsCheckDigit('999000000')).toBeNull();
    for (let d = 0; d <= 9; d += 1) expect(isValidNhsNumber(`999000000${d}`)).toBe(false);
  });
  it('says how many digits were typed', () => {
    expect(nhsNumberProblem('12345').message).toContain('5');
  });
  it('formats 3-3-4 for display', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
    expect(formatNhsNumber('9434765918')).toBeNull();
  });
  it('rejects a number given as a number, not text', () => {
    expect(nhsNumberProblem(9434765919)?.code).toBe('not_digits');
  });
});
