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

export function fieldLabel(field) {
  const words = String(field).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
