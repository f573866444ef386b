/** Which screens exist, for whom, and each role's navigation and home page. */
import { Today } from './screens/staff/Today.jsx';
import { Caseload } from './screens/staff/Caseload.jsx';
import { PatientView } from './screens/staff/PatientView.jsx';
import { VisitView } from './screens/staff/VisitView.jsx';
import { NewVisit } from './screens/staff/NewVisit.jsx';
import { FallsForm } from './screens/staff/FallsForm.jsx';
import { ActivationForm } from './screens/staff/ActivationForm.jsx';
import { GoalsList, GoalEdit } from './screens/staff/Goals.jsx';
import { Escalations } from './screens/coordinator/Escalations.jsx';
import { Conflicts } from './screens/coordinator/Conflicts.jsx';
import { Dashboard } from './screens/coordinator/Dashboard.jsx';
import { Devices } from './screens/coordinator/Devices.jsx';
import { MyGoals } from './screens/me/MyGoals.jsx';
import { History } from './screens/me/History.jsx';
import { Report } from './screens/me/Report.jsx';
import { Reminders } from './screens/me/Reminders.jsx';
import { Upcoming } from './screens/me/Upcoming.jsx';
import { SyncPage } from './screens/SyncPage.jsx';
import { Account } from './screens/Account.jsx';
import { Reports } from './screens/coordinator/Reports.jsx';
// issue 14, Nurse: history views and invitations
import { FallsView, ActivationView } from './screens/staff/AssessmentView.jsx';
import { Invite } from './screens/staff/Invite.jsx';

const STAFF = ['nurse', 'coordinator'];
const PEOPLE = ['patient', 'carer'];

// [path pattern, screen, roles allowed (null = any signed-in user), extra props]
export const ROUTES = [
  ['/today', Today, STAFF],
  ['/caseload', Caseload, STAFF],
  ['/patients/:id', PatientView, STAFF],
  ['/patients/:patientId/visits/new', NewVisit, STAFF],
  ['/patients/:patientId/falls/new', FallsForm, STAFF],
  ['/patients/:patientId/activation/new', ActivationForm, STAFF],
  ['/patients/:patientId/goals', GoalsList, STAFF],
  ['/goals/:id', GoalEdit, STAFF],
  ['/visits/:id', VisitView, STAFF],
  ['/escalations', Escalations, ['coordinator']],
  // Where an escalation's push notification leads (server: escalation_jobs.payload_for);
  // a nurse who is the patient's named care co-ordinator is notified too.
  ['/escalations/:id', Escalations, STAFF],
  ['/dashboard', Dashboard, ['coordinator']],
  ['/devices', Devices, null],
  ['/conflicts', Conflicts, null],
  ['/me', MyGoals, PEOPLE],
  ['/goals', MyGoals, PEOPLE], // where a reminder's push notification leads (server: reminders.reminder_payload)
  ['/me/history', History, PEOPLE],
  ['/me/report', Report, PEOPLE, { kind: 'other' }],
  ['/me/reminders', Reminders, PEOPLE],
  ['/me/visits', Upcoming, PEOPLE],
  ['/sync', SyncPage, null],
  ['/account', Account, null],
  // Co-ordinator reports, and the list behind each dashboard number.
  ['/reports', Reports, ['coordinator']],
  ['/dashboard/:list', Dashboard, ['coordinator']],
  // issue 14, Nurse: read-only history and app invitations
  ['/falls/:id', FallsView, STAFF],
  ['/activation/:id', ActivationView, STAFF],
  ['/patients/:patientId/invite', Invite, STAFF],
];

export const HOME = { nurse: '/today', coordinator: '/dashboard', patient: '/me', carer: '/me', admin: '/account' };

// [href, text, style]
export const NAV = {
  nurse: [['/today', 'Today'], ['/caseload', 'Caseload'], ['/conflicts', 'Conflicts'], ['/account', 'Account']],
  coordinator: [['/dashboard', 'Dashboard'], ['/escalations', 'Escalations'], ['/caseload', 'Caseload'], ['/today', 'Today'], ['/conflicts', 'Conflicts'], ['/devices', 'Devices'], ['/reports', 'Reports'], ['/account', 'Account']],
  patient: [['/me', 'My goals'], ['/me/visits', 'Visits'], ['/me/history', 'History'], ['/me/reminders', 'Reminders'], ['/me/report', 'Tell my team'], ['/fall', 'I’ve had a fall', 'fall'], ['/account', 'Account']],
  carer: [['/me', 'Goals'], ['/me/visits', 'Visits'], ['/me/history', 'History'], ['/me/reminders', 'Reminders'], ['/me/report', 'Tell the team'], ['/fall', 'Report a fall', 'fall'], ['/account', 'Account']],
  admin: [['/devices', 'Devices'], ['/account', 'Account']],
};
