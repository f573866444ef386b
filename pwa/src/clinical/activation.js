// Patient activation (PAM) level — twin of server/clinical/activation.py.
// The PAM questionnaire is licensed: never show its items; record the tool's score only.
// <= 47.0 -> 1, 47.1-55.1 -> 2, 55.2-67.0 -> 3, >= 67.1 -> 4, compared in whole tenths so
// floating point never moves a boundary. More than one decimal (47.05) is rejected, not
// rounded. A differing source_level is kept and flagged (level_mismatch), never overridden.
import { activation as spec } from './instruments.js';

export const LEVELS = [1, 2, 3, 4];
const tenths = (value) => Math.round(value * 10);

/** A message saying what is wrong with a score, or null if it is valid. */
export function activationScoreProblem(score) {
  const m = spec.messages;
  if (typeof score !== 'number' || !Number.isFinite(score)) return m.number;
  if (score < spec.score.min || score > spec.score.max) return m.range;
  if (Math.abs(score * 10 - tenths(score)) > 1e-6) return m.decimals;
  return null;
}

export function sourceLevelProblem(sourceLevel) {
  if (sourceLevel === null || sourceLevel === undefined) return null;
  return LEVELS.includes(sourceLevel) ? null : spec.messages.source_level;
}

export function activationLevel(score) {
  const problem = activationScoreProblem(score);
  if (problem) throw new Error(problem);
  const t = tenths(score);
  const entry = spec.levels.find((lv) => tenths(lv.min) <= t && t <= tenths(lv.max));
  return entry.level;
}

export function activationLevelLabel(level) {
  const entry = spec.levels.find((lv) => lv.level === level);
  if (!entry) throw new Error(`no PAM level ${level}`);
  return entry.label;
}

/** {level, level_mismatch} — the fields the server computes for an activation_score. */
export function assessActivation(score, sourceLevel = null) {
  const problem = sourceLevelProblem(sourceLevel);
  if (problem) throw new Error(problem);
  const level = activationLevel(score);
  const hasSource = sourceLevel !== null && sourceLevel !== undefined;
  return { level, level_mismatch: hasSource && sourceLevel !== level };
}
