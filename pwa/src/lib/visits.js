/**
 * How a booked visit stands against the clock, for the nurse's day list, the caseload
 * and the banner. "Overdue" is the co-ordinator dashboard's meaning (still scheduled after
 * its booked end); "missed" is the server's missed-visit escalation (SPEC §5): an open
 * `missed_visit` escalation for it, or still scheduled MISSED_AFTER_HOURS after its end
 * (so it shows offline before the escalation arrives).
 */

// The server's ESCALATION_MISSED_VISIT_HOURS default; the escalation itself is the truth.
export const MISSED_AFTER_HOURS = 2;

/** 'missed' | 'overdue' | null for a visit record, given the patient's escalations. */
export function visitTiming(visit, escalations = [], now = new Date()) {
  const v = visit.data;
  if (v.status !== 'scheduled' || !v.scheduled_end) return null;
  const escalated = escalations.some((e) => e.data.rule === 'missed_visit' && e.data.source_id === visit.id && e.data.status !== 'resolved');
  const end = new Date(v.scheduled_end).getTime();
  if (escalated || now.getTime() > end + MISSED_AFTER_HOURS * 3600_000) return 'missed';
  return now.getTime() > end ? 'overdue' : null;
}

const live = (visit) => visit.data.status !== 'cancelled';

/** The next booked (scheduled or in progress) visit from now, and the last one that happened. */
export function nextAndLast(visits, now = new Date()) {
  const at = (v) => new Date(v.data.scheduled_start).getTime();
  let next = null;
  let last = null;
  for (const v of visits) {
    if (!live(v) || !v.data.scheduled_start) continue;
    const upcoming = ['scheduled', 'in_progress'].includes(v.data.status) && (at(v) >= now.getTime() || visitTiming(v, [], now) === null);
    if (upcoming && (!next || at(v) < at(next))) next = v;
    if (['completed', 'no_access'].includes(v.data.status) && (!last || at(v) > at(last))) last = v;
  }
  return { next, last };
}
