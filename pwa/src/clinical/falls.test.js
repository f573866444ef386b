import { describe, expect, it } from 'vitest';
import vectors from '../../../instruments/vectors/falls.json' with { type: 'json' };
import fesIVectors from '../../../instruments/vectors/short_fes_i.json' with { type: 'json' };
import {
  InvalidAnswers,
  effectiveThresholds,
  fallsAnswerProblems,
  fesIBand,
  stratifyFalls,
} from './falls.js';

describe('falls stratification vectors (shared with pytest)', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const answers = { ...vectors.base, ...c.input };
    const options = { thresholds: c.thresholds };
    if (c.expected.error_fields) {
      expect(() => stratifyFalls(answers, options)).toThrow(InvalidAnswers);
      expect(Object.keys(fallsAnswerProblems(answers)).sort())
        .toEqual([...c.expected.error_fields].sort());
      return;
    }
    const result = stratifyFalls(answers, options);
    expect(result.risk_level).toBe(c.expected.risk_level);
    expect(result.reasons.map((r) => r.code)).toEqual(c.expected.reasons);
    if (c.expected.reason_texts) {
      expect(result.reasons.map((r) => r.text)).toEqual(c.expected.reason_texts);
    }
  });
});

describe('Short FES-I vectors (shared with pytest)', () => {
  it.each(fesIVectors.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    if (c.expected.error) expect(() => fesIBand(c.input)).toThrow();
    else expect(fesIBand(c.input)).toBe(c.expected.band);
  });
});

describe('falls stratification by hand (SPEC §4 text)', () => {
  const noFall = { falls_last_12_months: 0, feels_unsteady: false, worried_about_falling: false };
  const oneFall = {
    falls_last_12_months: 1, fall_injury: false, unable_to_get_up: false,
    lost_consciousness: false, feels_unsteady: false, worried_about_falling: false,
    frailty_cfs: 3, tug_seconds: 9,
  };
  it('recommended actions follow the level', () => {
    const codes = (a) => stratifyFalls(a).recommended_actions.map((x) => x.code);
    expect(codes({ ...oneFall, fall_injury: true })).toContain('multifactorial_assessment');
    expect(codes({ ...oneFall, tug_seconds: 20 })).toContain('strength_balance_exercise');
    expect(codes(noFall)).toContain('education');
  });
  it('each severity criterion alone makes a faller high; without a fall none does', () => {
    for (const extra of [
      { fall_injury: true }, { falls_last_12_months: 2 }, { frailty_cfs: 5 },
      { unable_to_get_up: true }, { lost_consciousness: true },
    ]) {
      expect(stratifyFalls({ ...oneFall, ...extra }).risk_level).toBe('high');
    }
    expect(stratifyFalls({ ...noFall, frailty_cfs: 9, tug_seconds: 9 }).risk_level).toBe('low');
  });
  it('impaired gait makes intermediate only with a fall, unsteadiness or worry', () => {
    const slow = { tug_seconds: 15.1 };
    expect(stratifyFalls({ ...noFall, ...slow }).risk_level).toBe('low');
    expect(stratifyFalls({ ...noFall, ...slow, feels_unsteady: true }).risk_level)
      .toBe('intermediate');
    expect(stratifyFalls({ ...noFall, ...slow, worried_about_falling: true }).risk_level)
      .toBe('intermediate');
    expect(stratifyFalls({ ...oneFall, ...slow }).risk_level).toBe('intermediate');
  });
  it('every combination around the boundaries matches the SPEC text', () => {
    const specLevel = (a) => {
      const fall = a.falls_last_12_months >= 1;
      const { frailty_cfs: cfs, tug_seconds: tug, gait_speed_m_s: speed } = a;
      if (fall && (a.fall_injury || a.falls_last_12_months >= 2 || (cfs !== null && cfs >= 5)
        || a.unable_to_get_up || a.lost_consciousness)) return 'high';
      const impaired = (tug !== null && tug > 15) || (speed !== null && speed < 0.8);
      if ((fall || a.feels_unsteady || a.worried_about_falling) && impaired) {
        return 'intermediate';
      }
      return 'low';
    };
    let count = 0;
    for (const n of [0, 1, 2]) for (const inj of [false, true]) for (const up of [false, true])
    for (const lost of [false, true]) for (const unsteady of [false, true])
    for (const worried of [false, true]) for (const cfs of [null, 4, 5])
    for (const tug of [null, 15.0, 15.1]) for (const speed of [null, 0.8, 0.79]) {
      if (n === 0 && (inj || up || lost)) continue;
      const a = {
        falls_last_12_months: n, fall_injury: inj, unable_to_get_up: up, lost_consciousness: lost,
        feels_unsteady: unsteady, worried_about_falling: worried, frailty_cfs: cfs,
        tug_seconds: tug, gait_speed_m_s: speed,
      };
      expect(stratifyFalls(a).risk_level, JSON.stringify(a)).toBe(specLevel(a));
      count += 1;
    }
    expect(count).toBeGreaterThan(1000);
  });
  it('a missing required answer is reported, never read as no', () => {
    expect(fallsAnswerProblems({})).toHaveProperty('falls_last_12_months');
  });
  it('rejects unknown or non-positive threshold overrides', () => {
    expect(() => effectiveThresholds({ tug: 12 })).toThrow();
    expect(() => effectiveThresholds({ tug_impaired_above_s: 0 })).toThrow();
    expect(effectiveThresholds({ tug_impaired_above_s: 12 }).tug_impaired_above_s).toBe(12);
  });
});
