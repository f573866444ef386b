// Falls risk STRATIFICATION (World Falls Guidelines 2022) and Short FES-I band — twin of
// server/clinical/falls.py, run against the same vectors (instruments/vectors/falls.json).
// Stratification, not prediction (NICE NG249 advises against falls-prediction tools).
//
// - high: a fall in 12 months AND any of injury, >= 2 falls, CFS >= 5, unable to get up,
//   lost consciousness;
// - intermediate: otherwise (a fall OR unsteady OR worried) AND impaired gait
//   (TUG > 15 s OR gait speed < 0.8 m/s);
// - low: otherwise.
// Required answers are never read as "no": stratifyFalls throws InvalidAnswers (use
// fallsAnswerProblems to show what is missing while a form is being filled in). Missing
// optional measures never meet their criterion; a "note" reason says so where it matters.
import { falls as spec, shortFesI } from './instruments.js';
import { fill } from './format.js';

export const RISK_LEVELS = ['low', 'intermediate', 'high'];
const FALL_DETAILS = ['fall_injury', 'unable_to_get_up', 'lost_consciousness'];

export class InvalidAnswers extends Error {
  constructor(errors) {
    super(Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; '));
    this.name = 'InvalidAnswers';
    this.errors = errors;
  }
}

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const isMissing = (v) => v === null || v === undefined;

export function effectiveThresholds(overrides = {}) {
  const thresholds = { ...spec.thresholds };
  for (const [key, value] of Object.entries(overrides || {})) {
    if (!(key in thresholds)) throw new Error(`unknown falls threshold ${key}`);
    if (!isNumber(value) || value <= 0) {
      throw new Error(`falls threshold ${key} must be a positive number`);
    }
    thresholds[key] = value;
  }
  return thresholds;
}

/** Per-field messages for missing, mistyped or out-of-range answers ({} if fine). */
export function fallsAnswerProblems(answers) {
  const messages = spec.messages;
  const problems = {};
  for (const [field, rule] of Object.entries(spec.answers)) {
    const value = answers[field];
    if (isMissing(value)) {
      if (rule.required) problems[field] = messages.required;
      continue;
    }
    if (rule.type === 'boolean') {
      if (typeof value !== 'boolean') problems[field] = messages.yes_or_no;
      continue;
    }
    if (!isNumber(value)) problems[field] = messages.number;
    else if (rule.type === 'integer' && !Number.isInteger(value)) {
      problems[field] = messages.whole_number;
    } else if (value < rule.min || value > rule.max) {
      problems[field] = fill(messages.range, rule);
    }
  }
  const falls = answers.falls_last_12_months;
  if (!('falls_last_12_months' in problems)) {
    for (const field of FALL_DETAILS) {
      if (field in problems) continue;
      if (falls >= 1 && isMissing(answers[field])) problems[field] = messages.required_if_fall;
      else if (falls === 0 && answers[field] === true) problems[field] = messages.only_with_fall;
    }
  }
  return problems;
}

/** {risk_level, reasons: [{code, kind, text}], recommended_actions: [{code, text}]} */
export function stratifyFalls(answers, { thresholds } = {}) {
  const problems = fallsAnswerProblems(answers);
  if (Object.keys(problems).length > 0) throw new InvalidAnswers(problems);
  const limits = effectiveThresholds(thresholds);
  const values = { ...limits };
  for (const [k, v] of Object.entries(answers)) if (!isMissing(v)) values[k] = v;
  const reason = (code) => {
    const entry = spec.reasons[code];
    return { code, kind: entry.kind, text: fill(entry.text, values) };
  };

  const falls = answers.falls_last_12_months;
  const hadFall = falls >= 1;
  const cfs = isMissing(answers.frailty_cfs) ? null : answers.frailty_cfs;
  const tug = isMissing(answers.tug_seconds) ? null : answers.tug_seconds;
  const speed = isMissing(answers.gait_speed_m_s) ? null : answers.gait_speed_m_s;
  const present = (pairs) => pairs.filter(([, p]) => p).map(([code]) => code);

  const concerns = present([
    ['fall_in_last_12_months', hadFall],
    ['feels_unsteady', answers.feels_unsteady],
    ['worried_about_falling', answers.worried_about_falling],
  ]);
  const severity = hadFall
    ? present([
        ['fall_with_injury', answers.fall_injury === true],
        ['recurrent_falls', falls >= limits.recurrent_falls_min],
        ['frailty', cfs !== null && cfs >= limits.frailty_cfs_min],
        ['unable_to_get_up', answers.unable_to_get_up === true],
        ['lost_consciousness', answers.lost_consciousness === true],
      ])
    : [];
  const gait = present([
    ['tug_slow', tug !== null && tug > limits.tug_impaired_above_s],
    ['gait_speed_slow', speed !== null && speed < limits.gait_speed_impaired_below_m_s],
  ]);
  const gaitMeasured = tug !== null || speed !== null;

  let level;
  let codes;
  if (severity.length > 0) {
    level = 'high';
    codes = [...concerns, ...severity];
  } else if (concerns.length > 0 && gait.length > 0) {
    level = 'intermediate';
    codes = [...concerns, ...gait];
  } else {
    level = 'low';
    if (concerns.length === 0) codes = ['no_falls_or_concerns', ...gait];
    else codes = [...concerns, gaitMeasured ? 'gait_not_impaired' : 'gait_not_measured'];
  }
  if (level !== 'high' && hadFall && cfs === null) codes.push('frailty_not_recorded');

  return {
    risk_level: level,
    reasons: codes.map(reason),
    recommended_actions: spec.actions[level].map(({ code, text }) => ({ code, text })),
  };
}

function fesIEntry(score) {
  if (!isNumber(score) || !Number.isInteger(score)) {
    throw new Error('Short FES-I score must be a whole number');
  }
  const entry = shortFesI.bands.find((b) => b.min <= score && score <= b.max);
  if (!entry) {
    throw new Error(
      `Short FES-I score must be between ${shortFesI.score.min} and ${shortFesI.score.max}`,
    );
  }
  return entry;
}

/** Short FES-I concern band: 'low' (7-8), 'moderate' (9-13), 'high' (14-28). */
export function fesIBand(score) {
  return fesIEntry(score).band;
}

export function fesILabel(score) {
  return fesIEntry(score).label;
}
