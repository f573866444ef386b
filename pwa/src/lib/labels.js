/** Words people read for the data dictionary's codes (SPEC §2). */
export const ROLE = { nurse: 'Nurse', coordinator: 'Care co-ordinator', patient: 'Patient', carer: 'Carer', admin: 'Administrator' };

export const VISIT_TYPE = {
  assessment: 'Assessment', wound_care: 'Wound care', medication: 'Medication', continence: 'Continence',
  review: 'Review', palliative: 'Palliative care', other: 'Other',
};

export const VISIT_STATUS = {
  scheduled: 'Scheduled', in_progress: 'In progress', completed: 'Completed', no_access: 'No access', cancelled: 'Cancelled',
};

export const SEVERITY = { routine: 'Routine', urgent: 'Urgent', emergency: 'Emergency' };
export const SEVERITY_ORDER = { emergency: 0, urgent: 1, routine: 2 };
export const ESCALATION_STATUS = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

export const RULE = {
  fall_reported: 'Fall reported',
  falls_risk_high: 'High falls risk',
  falls_risk_intermediate: 'Intermediate falls risk',
  activation_low: 'Low or falling activation',
  no_access_visit: 'No access at visit (welfare check)',
  missed_visit: 'Missed visit',
  goal_not_logged: 'Goal not logged for 7 days',
  late_sync: 'Visit synced late',
};

export const GOAL_STATUS = { active: 'Active', achieved: 'Achieved', paused: 'Paused', stopped: 'Stopped' };
export const SEX = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Not known' };
export const COMPLEXITY = { well: 'Well', moderate: 'Moderate', significant: 'Significant' };
export const SELF_REPORT_KIND = { fall: 'A fall', unwell: 'Feeling unwell', carer_strain: 'Carer strain', other: 'Something else' };
export const RISK = { low: 'Low', intermediate: 'Intermediate', high: 'High' };

export const MULTIFACTORIAL_DOMAIN = {
  medication_review: 'Medication review',
  vision: 'Vision',
  continence: 'Continence',
  home_hazards: 'Home hazards',
  postural_hypotension: 'Postural hypotension',
  footwear_feet: 'Footwear and feet',
  cognition: 'Cognition',
  osteoporosis_risk: 'Osteoporosis risk',
  gait_balance: 'Gait and balance',
  fear_of_falling: 'Fear of falling',
};

export const MULTIFACTORIAL_VALUE = {
  not_assessed: 'Not assessed',
  no_concern: 'No concern',
  concern_action_taken: 'Concern: action taken',
  referred: 'Referred',
};

export const ENTITY = {
  patient: 'Patient details', carer_link: 'Carer link', visit: 'Visit', visit_addendum: 'Visit addendum',
  falls_assessment: 'Falls assessment', activation_score: 'Activation score', goal: 'Goal', goal_log: 'Goal log',
  self_report: 'Report', reminder: 'Reminder', escalation: 'Escalation', conflict: 'Conflict',
};

export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function label(table, code) {
  return (code && table[code]) || (code ? String(code).replace(/_/g, ' ') : '—');
}

/** Every record field people may see named (conflicts, corrections, errors): one table. */
export const FIELD = {
  access_notes: 'Access notes', acknowledged_at: 'Acknowledged at', acknowledged_by: 'Acknowledged by',
  active: 'Active', address: 'Address', assessed_at: 'Assessed at', assigned_to: 'Assigned to', body: 'Message',
  care_coordinator_id: 'Care co-ordinator', carer_user_id: 'Carer', complexity_tier: 'Complexity',
  consent_basis: 'Consent basis', date: 'Date', date_of_birth: 'Date of birth', days_of_week: 'Days',
  description: 'Description', details: 'What happened', done: 'Done', end_date: 'End date', ended_at: 'Ended at',
  entered_in_error: 'Entered in error', fall_injury: 'Injured in a fall',
  falls_last_12_months: 'Falls in the last 12 months', family_name: 'Family name',
  feels_unsteady: 'Feels unsteady when standing or walking', frailty_cfs: 'Clinical Frailty Scale',
  gait_speed_m_s: 'Gait speed (metres per second)', given_name: 'Given name', goal_id: 'Goal',
  gp_practice: 'GP practice', happened_at: 'When it happened', injured: 'Hurt', interventions: 'Interventions',
  kind: 'Kind of report', lost_consciousness: 'Lost consciousness or suspected blackout',
  multifactorial: 'Multifactorial assessment', named_gp: 'Named GP', nhs_number: 'NHS number', note: 'Note',
  notes: 'Visit notes', notified_at: 'Last notified', occurrences: 'Occurrences', patient_id: 'Patient',
  phone: 'Phone', postcode: 'Postcode', raised_at: 'Raised', reason: 'Reason', recipient_ids: 'Who is reminded',
  relationship: 'Relationship', resolution_note: 'What was done', resolved_at: 'Resolved at',
  resolved_by: 'Resolved by', review_date: 'Review date', risk_profiling_opt_out: 'Opted out of risk profiling',
  rule: 'Reason', scheduled_end: 'Scheduled end', scheduled_start: 'Scheduled start', score: 'Score',
  severity: 'Severity', sex: 'Sex', sharing_objection: 'Objects to sharing', short_fes_i: 'Short FES-I total',
  signed_at: 'Signed at', source: 'Source', source_entity: 'Raised by record type', source_id: 'Raised by record',
  source_level: 'Level given by the tool', start_date: 'Start date', started_at: 'Started at', status: 'Status',
  team_id: 'Team', text: 'Text', time_of_day: 'Time', times_per_week: 'Times a week', timezone: 'Time zone',
  title: 'Title', tug_seconds: 'Timed Up and Go (seconds)', unable_to_get_up: 'Could not get up without help',
  visit_id: 'Visit', visit_type: 'Visit type', void_reason: 'Reason it was entered in error',
  worried_about_falling: 'Worried about falling',
  // Worked out by the server (shown, never edited).
  risk_level: 'Falls risk', reasons: 'Reasons', recommended_actions: 'Recommended actions', fes_i_band: 'Concern about falling',
  rules_version: 'Rules version', level: 'Activation level', level_mismatch: 'Level differs from the tool', signed_by: 'Signed by',
};

/** A field's name for people: from FIELD; an unknown code still reads as words, never raw. */
export function fieldLabel(field) {
  if (FIELD[field]) return FIELD[field];
  const words = String(field).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
