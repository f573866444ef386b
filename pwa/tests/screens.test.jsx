// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { render } from 'preact';
import { Report } from '../src/screens/me/Report.jsx';
import { matchesSearch, notAnNhsNumber } from '../src/screens/staff/Caseload.jsx';
import { weekStart } from '../src/screens/me/MyGoals.jsx';
import { teamCounts } from '../src/screens/coordinator/Dashboard.jsx';
import { assessmentFields } from '../src/screens/staff/FallsForm.jsx';
import { changedFields } from '../src/lib/editForm.js';
import { matchRoute } from '../src/lib/router.js';
import { ROUTES } from '../src/routes.js';
import { Escalations } from '../src/screens/coordinator/Escalations.jsx';
import { MyGoals } from '../src/screens/me/MyGoals.jsx';
import { parseLike, editableText } from '../src/lib/format.js';
import { applyPullPage } from '../src/lib/sync.js';
import { fallsResultOf } from '../src/lib/instruments.js';
import { wire } from './fake-server.js';

describe('I have had a fall', () => {
  it('shows the 999 advice at once, signed out and with no data at all', () => {
    const root = document.createElement('div');
    render(<Report user={null} kind="fall" />, root);
    const alert = root.querySelector('[role="alert"]');
    expect(alert.textContent).toContain('If you are hurt or cannot get up, call 999.');
    expect(root.querySelector('a[href="tel:999"]')).not.toBeNull();
  });
});

describe('screen helpers', () => {
  const patient = { data: { given_name: 'Margaret', family_name: 'Hughes', nhs_number: '9434765919', postcode: 'LS6 2AB' } };

  it('finds patients by name, NHS number with spaces, or postcode', () => {
    expect(matchesSearch(patient, 'hugh')).toBe(true);
    expect(matchesSearch(patient, '943 476 5919')).toBe(true);
    expect(matchesSearch(patient, 'ls62')).toBe(true);
    expect(matchesSearch(patient, 'LS6 2')).toBe(true);
    expect(matchesSearch(patient, 'brown')).toBe(false);
    expect(matchesSearch(patient, '123')).toBe(false);
  });

  it('flags a searched ten-digit number that fails the NHS check digit', () => {
    expect(notAnNhsNumber('943 476 5919')).toBe(false);
    expect(notAnNhsNumber('943 476 5918')).toBe(true);
    expect(notAnNhsNumber('94347')).toBe(false);
  });

  it('matches path routes with parameters', () => {
    expect(matchRoute('/patients/:id', '/patients/p-1')).toEqual({ id: 'p-1' });
    expect(matchRoute('/patients/:patientId/goals', '/patients/p%201/goals?x=1')).toEqual({ patientId: 'p 1' });
    expect(matchRoute('/patients/:id', '/patients/p-1/goals')).toBeNull();
  });

  it('starts the week on Monday', () => {
    expect(weekStart('2025-03-30')).toBe('2025-03-24'); // Sunday
    expect(weekStart('2025-03-24')).toBe('2025-03-24');
  });

  it('round-trips edited values to their original types', () => {
    expect(parseLike('4', 7)).toBe(4);
    expect(parseLike('no', true)).toBe(false);
    expect(parseLike('a; b', ['x'])).toEqual(['a', 'b']);
    expect(parseLike(editableText({ a: 1 }), { b: 2 })).toEqual({ a: 1 });
    expect(parseLike('text', 'old')).toBe('text');
  });

  it('sends only the goal fields that changed', () => {
    expect(changedFields({ title: 'Walk', times_per_week: 3 }, { title: 'Walk', times_per_week: 4, status: undefined })).toEqual({ times_per_week: 4 });
    // An empty "Details" box over a goal without a description changes nothing…
    expect(changedFields({ title: 'Walk', times_per_week: 3 }, { title: 'Walk', description: '', times_per_week: 6 })).toEqual({ times_per_week: 6 });
    // …but clearing a description that was there does.
    expect(changedFields({ title: 'Walk', description: 'Slowly' }, { title: 'Walk', description: '' })).toEqual({ description: '' });
  });

  it('builds a falls assessment without server-computed or blank optional fields', () => {
    const fields = assessmentFields({
      assessed_at: '2025-01-10T10:00', visit_id: '', falls_last_12_months: '0', fall_injury: null, unable_to_get_up: null,
      lost_consciousness: null, feels_unsteady: true, worried_about_falling: false, frailty_cfs: '', tug_seconds: '16.5',
      gait_speed_m_s: '', short_fes_i: '', multifactorial: { vision: 'referred' },
    }, 'p-1');
    expect(fields).toEqual({
      patient_id: 'p-1', assessed_at: new Date('2025-01-10T10:00').toISOString(), falls_last_12_months: 0,
      fall_injury: false, unable_to_get_up: false, lost_consciousness: false, feels_unsteady: true,
      worried_about_falling: false, tug_seconds: 16.5, multifactorial: { vision: 'referred' },
    });
    expect(fallsResultOf({ data: fields, pending: 1 })).toMatchObject({ risk_level: 'intermediate', local: true });
  });
});

describe('team dashboard counts', () => {
  it('counts open escalations by severity, high-risk patients, visits today and overdue', async () => {
    const now = new Date(2025, 5, 10, 15, 0); // 3 pm local: 'today' is unambiguous
    const hoursAgo = (h) => new Date(now.getTime() - h * 3600_000).toISOString();
    await applyPullPage({
      changes: [
        wire('patient', 'p-1', 1, {}), wire('patient', 'p-2', 1, {}),
        wire('falls_assessment', 'f-1', 1, { patient_id: 'p-1', assessed_at: '2025-01-01T10:00:00Z', risk_level: 'low' }),
        wire('falls_assessment', 'f-2', 1, { patient_id: 'p-1', assessed_at: '2025-02-01T10:00:00Z', risk_level: 'high' }),
        wire('falls_assessment', 'f-3', 1, { patient_id: 'p-2', assessed_at: '2025-02-01T10:00:00Z', risk_level: 'high', entered_in_error: true }),
        wire('escalation', 'e-1', 1, { patient_id: 'p-1', severity: 'urgent', status: 'open' }),
        wire('escalation', 'e-2', 1, { patient_id: 'p-1', severity: 'emergency', status: 'open' }),
        wire('escalation', 'e-3', 1, { patient_id: 'p-2', severity: 'urgent', status: 'resolved' }),
        wire('visit', 'v-1', 1, { patient_id: 'p-1', status: 'scheduled', scheduled_start: hoursAgo(0.5), scheduled_end: hoursAgo(0.1) }),
        wire('visit', 'v-2', 1, { patient_id: 'p-2', status: 'scheduled', scheduled_start: hoursAgo(30), scheduled_end: hoursAgo(29) }),
      ],
      evictions: [], cursor: 'c', has_more: false,
    });
    const counts = await teamCounts(now);
    expect(counts.openEscalations).toBe(2);
    expect(counts.bySeverity).toEqual({ routine: 0, urgent: 1, emergency: 1 });
    expect(counts.highRisk).toBe(1); // p-2's high was entered in error
    expect(counts.overdue).toBe(2);
    expect(counts.visitsToday).toBe(1);
  });
});

/** The screen App.jsx shows a role at a path (same rule: first route that matches). */
function screenFor(path, role) {
  for (const [pattern, Screen, roles] of ROUTES) {
    const params = matchRoute(pattern, path);
    if (params && (!roles || roles.includes(role))) return { Screen, params };
  }
  return null;
}

describe('where push notifications lead', () => {
  it('opens the addresses the server puts in escalation and reminder pushes', () => {
    // server/escalation_jobs.py payload_for: /escalations/{id}, to coordinators and the
    // named care co-ordinator (who may be a nurse); server/reminders.py: /goals.
    for (const role of ['coordinator', 'nurse']) {
      expect(screenFor('/escalations/e-1', role)).toEqual({ Screen: Escalations, params: { id: 'e-1' } });
    }
    for (const role of ['patient', 'carer']) expect(screenFor('/goals', role)).toEqual({ Screen: MyGoals, params: {} });
    expect(screenFor('/escalations', 'nurse')).toBeNull();
  });

  it('shows one escalation to a nurse read-only, to a coordinator with its actions', async () => {
    await applyPullPage({
      changes: [
        wire('patient', 'p-1', 1, { given_name: 'Ann', family_name: 'Lee' }),
        wire('escalation', 'e-1', 1, { patient_id: 'p-1', rule: 'fall_reported', severity: 'emergency', status: 'open' }),
        wire('escalation', 'e-2', 1, { patient_id: 'p-1', rule: 'missed_visit', severity: 'urgent', status: 'open' }),
      ],
      evictions: [], cursor: 'c', has_more: false,
    });
    for (const [role, actions] of [['nurse', 0], ['coordinator', 1]]) {
      const root = document.createElement('div');
      render(<Escalations id="e-1" user={{ role }} />, root);
      await vi.waitFor(() => expect(root.textContent).toContain('Fall reported'));
      expect(root.textContent).not.toContain('Missed visit');
      expect([...root.querySelectorAll('button')].filter((b) => b.textContent.startsWith('Acknowledge'))).toHaveLength(actions);
      render(null, root);
    }
  });
});
