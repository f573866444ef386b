/**
 * The shared clinical instruments as the screens use them: falls stratification,
 * Short FES-I band, PAM level and NHS number check. The scoring lives in src/clinical/
 * (same instrument data and test vectors as the server); this module only adapts its
 * results to what the screens show, so no screen re-implements a rule.
 */
import {
  stratifyFalls as stratify,
  fallsAnswerProblems,
  fesIBand as band,
  fesILabel,
  assessActivation,
  activationLevelLabel as levelLabel,
  isValidNhsNumber as validNhs,
  instruments,
} from '../clinical/index.js';

const text = (item) => (item && typeof item === 'object' ? item.text || item.label || item.code : String(item));
const isNote = (item) => item && typeof item === 'object' && item.kind === 'note';

export const FALLS_TITLE = instruments.falls.title;

/** Per-field problems with falls answers, in the instrument's own words. */
export function fallsProblems(answers) {
  return fallsAnswerProblems(answers);
}

function shape(result) {
  const reasons = result.reasons || [];
  return {
    risk_level: result.risk_level,
    reasons: reasons.filter((r) => !isNote(r)).map(text),
    notes: reasons.filter(isNote).map(text),
    recommended_actions: (result.recommended_actions || []).map(text),
  };
}

/** Live falls stratification from answers; null while required answers are missing. */
export function stratifyFalls(answers) {
  if (Object.keys(fallsAnswerProblems(answers)).length) return null;
  return shape(stratify(answers));
}

/** The server's result once the record has synced, otherwise the live local one. */
export function fallsResultOf(record) {
  const data = record.data;
  if (data.risk_level && !record.pending) return { ...shape(data), local: false };
  const local = stratifyFalls(data);
  return local ? { ...local, local: Boolean(record.pending) } : null;
}

/** {band, label} for a Short FES-I total, or null when it is not a valid total. */
export function fesIBand(score) {
  if (score === '' || score === null || score === undefined) return null;
  try {
    return { band: band(Number(score)), label: fesILabel(Number(score)) };
  } catch {
    return null;
  }
}

/** {level, level_mismatch} for a score (and optional tool-reported level), or null. */
export function activationLevel(score, sourceLevel) {
  if (score === '' || score === null || score === undefined) return null;
  try {
    return assessActivation(Number(score), sourceLevel === '' || sourceLevel == null ? null : Number(sourceLevel));
  } catch {
    return null;
  }
}

export function activationOf(record) {
  const data = record.data;
  if (data.level && !record.pending) {
    const mismatch = data.level_mismatch ?? (data.source_level != null && data.source_level !== data.level);
    return { level: data.level, level_mismatch: Boolean(mismatch) };
  }
  return activationLevel(data.score, data.source_level);
}

export function activationLevelLabel(level) {
  try {
    return levelLabel(level);
  } catch {
    return `Level ${level}`;
  }
}

export function isValidNhsNumber(value) {
  return validNhs(value);
}
