import { describe, expect, it } from 'vitest';
import vectors from '../../../instruments/vectors/activation.json' with { type: 'json' };
import { activationLevel, activationScoreProblem, assessActivation } from './activation.js';

describe('PAM level vectors (shared with pytest)', () => {
  it.each(vectors.cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const run = () => assessActivation(c.input.score, c.input.source_level ?? null);
    if (c.expected.error) expect(run).toThrow();
    else expect(run()).toEqual(c.expected);
  });
});

describe('PAM level by hand (SPEC §4)', () => {
  const table = [
    [0, 1], [47.0, 1], [47.1, 2], [55.1, 2], [55.2, 3], [67.0, 3], [67.1, 4], [100, 4],
  ];
  it.each(table)('score %s is level %s', (score, level) => {
    expect(activationLevel(score)).toBe(level);
  });
  it('every one-decimal score from 0 to 100 gets the level the SPEC text gives', () => {
    for (let t = 0; t <= 1000; t += 1) {
      const score = t / 10;
      const expected = score <= 47.0 ? 1 : score <= 55.1 ? 2 : score <= 67.0 ? 3 : 4;
      expect(activationLevel(score)).toBe(expected);
    }
  });
  it('float noise is not a second decimal', () => {
    expect(activationScoreProblem(0.1 + 0.2)).toBeNull();
  });
  it('47.05 is refused with a message, never rounded', () => {
    expect(activationScoreProblem(47.05)).toMatch(/one decimal/);
  });
});
