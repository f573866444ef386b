// A stand-in for the Doorstep API for working on the PWA alone: serves dist/ with the
// production CSP and answers the /api/v1 calls the app makes, from made-up data.
// Not a test oracle (the real server is): it exists to click through and screenshot
// every screen. Usage: npm run build && node scripts/mock-api.mjs [port]
// Users (any password): nina (nurse), cora (coordinator), pat (patient), cara (carer).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist');
const PORT = Number(process.argv[2] || 5173);
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.json': 'application/json' };

const USERS = {
  nina: { id: 'u-nina', username: 'nina', role: 'nurse', display_name: 'Nina Patel', team_ids: ['t-1'], patient_id: null },
  cora: { id: 'u-cora', username: 'cora', role: 'coordinator', display_name: 'Cora Evans', team_ids: ['t-1'], patient_id: null },
  pat: { id: 'u-pat', username: 'pat', role: 'patient', display_name: 'Margaret Hughes', team_ids: [], patient_id: 'p-1' },
  cara: { id: 'u-cara', username: 'cara', role: 'carer', display_name: 'Carol Hughes', team_ids: [], patient_id: null },
};

const day = (offset, hh, mm = 0) => { const d = new Date(); d.setDate(d.getDate() + offset); d.setHours(hh, mm, 0, 0); return d.toISOString(); };
const date = (offset) => day(offset, 12).slice(0, 10);
const records = new Map();
let seq = 0;
function put(entity, id, data, deleted = false) {
  const old = records.get(`${entity}:${id}`);
  seq += 1;
  records.set(`${entity}:${id}`, { entity, id, version: (old ? old.version : 0) + 1, deleted, updated_at: new Date().toISOString(), data, seq });
}
const mf = { medication_review: 'concern_action_taken', vision: 'no_concern', continence: 'not_assessed', home_hazards: 'referred', postural_hypotension: 'no_concern', footwear_feet: 'no_concern', cognition: 'not_assessed', osteoporosis_risk: 'not_assessed', gait_balance: 'concern_action_taken', fear_of_falling: 'no_concern' };
put('patient', 'p-1', { nhs_number: '9434765919', given_name: 'Margaret', family_name: 'Hughes', date_of_birth: '1938-04-12', sex: 'female', address: '4 Mill Lane, Leeds', postcode: 'LS6 2AB', phone: '0113 496 0000', team_id: 't-1', gp_practice: 'Hyde Park Surgery', named_gp: 'Dr Shah', care_coordinator_id: 'u-cora', complexity_tier: 'significant', risk_profiling_opt_out: false, sharing_objection: false, access_notes: 'Key safe 1234. Dog (friendly).' });
put('patient', 'p-2', { nhs_number: '9434765870', given_name: 'Arthur', family_name: 'Brown', date_of_birth: '1944-11-02', sex: 'male', address: '17 Otley Road, Leeds', postcode: 'LS16 5QR', team_id: 't-1', complexity_tier: 'moderate', risk_profiling_opt_out: false, sharing_objection: false });
put('patient', 'p-3', { nhs_number: '9434765862', given_name: 'Edith', family_name: 'Clarke', date_of_birth: '1930-07-21', sex: 'female', address: '2 Kirkstall Hill, Leeds', postcode: 'LS5 3BT', team_id: 't-1', complexity_tier: 'well', risk_profiling_opt_out: true, sharing_objection: false });
put('carer_link', 'cl-1', { patient_id: 'p-1', carer_user_id: 'u-cara', relationship: 'daughter', consent_basis: 'patient_consent', active: true });
put('visit', 'v-1', { patient_id: 'p-1', assigned_to: 'u-nina', scheduled_start: day(0, 9), scheduled_end: day(0, 9, 45), visit_type: 'wound_care', status: 'scheduled', interventions: [], notes: '' });
put('visit', 'v-2', { patient_id: 'p-2', assigned_to: 'u-nina', scheduled_start: day(0, 11), scheduled_end: day(0, 11, 30), visit_type: 'assessment', status: 'scheduled', interventions: [] });
put('visit', 'v-3', { patient_id: 'p-3', assigned_to: 'u-nina', scheduled_start: day(-2, 14), scheduled_end: day(-2, 14, 30), visit_type: 'review', status: 'completed', started_at: day(-2, 14, 5), ended_at: day(-2, 14, 35), notes: 'Well. Reviewed medication.', interventions: ['Medication review'], signed_at: day(-2, 15), signed_by: 'u-nina' });
put('visit', 'v-4', { patient_id: 'p-1', assigned_to: 'u-nina', scheduled_start: day(3, 10), scheduled_end: day(3, 10, 30), visit_type: 'review', status: 'scheduled', interventions: [] });
[[-200, 1, false, 14.2, 'intermediate'], [-90, 2, true, 18.5, 'high'], [-10, 1, false, 16.0, 'intermediate']].forEach(([d, falls, injury, tug, level], i) => put('falls_assessment', `fa-${i}`, {
  patient_id: 'p-1', assessed_at: day(d, 10), falls_last_12_months: falls, fall_injury: injury, unable_to_get_up: false, lost_consciousness: false,
  feels_unsteady: true, worried_about_falling: true, frailty_cfs: 4, tug_seconds: tug, multifactorial: mf, risk_level: level, reasons: [{ code: 'x', kind: 'finding', text: `Timed Up and Go ${tug} s` }], recommended_actions: [{ code: 'y', text: level === 'high' ? 'Offer a multifactorial falls risk assessment' : 'Refer to a strength and balance exercise programme' }],
}));
[[-300, 44.5, 1], [-150, 51.2, 2], [-20, 58.0, 3]].forEach(([d, score, level], i) => put('activation_score', `as-${i}`, { patient_id: 'p-1', assessed_at: day(d, 11), score, level, source: 'PAM-13 (licensed tool)' }));
put('activation_score', 'as-9', { patient_id: 'p-2', assessed_at: day(-5, 11), score: 45.1, level: 1, source_level: 2, source: 'PAM-13 (licensed tool)' });
put('goal', 'g-1', { patient_id: 'p-1', title: 'Walk to the post box', description: 'With the stick, in daylight', times_per_week: 5, start_date: date(-30), review_date: date(30), status: 'active' });
put('goal', 'g-2', { patient_id: 'p-1', title: 'Chair exercises', description: '10 sit-to-stands', times_per_week: 7, start_date: date(-30), review_date: date(30), status: 'active' });
put('goal_log', 'gl-1', { goal_id: 'g-1', patient_id: 'p-1', date: date(-1), done: true, note: '' });
put('reminder', 'r-1', { patient_id: 'p-1', goal_id: 'g-2', recipient_ids: ['u-pat'], title: 'Chair exercises', body: 'Time for your sit-to-stands', time_of_day: '10:00', days_of_week: [1, 2, 3, 4, 5, 6, 7], timezone: 'Europe/London', start_date: date(-30), active: true });
put('escalation', 'e-1', { patient_id: 'p-1', team_id: 't-1', rule: 'falls_risk_high', severity: 'urgent', reason: 'Falls assessment: high risk', source_entity: 'falls_assessment', source_id: 'fa-1', status: 'open', occurrences: 1 });
put('escalation', 'e-2', { patient_id: 'p-2', team_id: 't-1', rule: 'activation_low', severity: 'routine', reason: 'Activation level 1', source_entity: 'activation_score', source_id: 'as-9', status: 'open', occurrences: 2 });
put('escalation', 'e-3', { patient_id: 'p-3', team_id: 't-1', rule: 'fall_reported', severity: 'emergency', reason: 'Fall reported: could not get up', source_entity: 'self_report', source_id: 'sr-x', status: 'acknowledged', occurrences: 1 });
put('conflict', 'k-1', { patient_id: 'p-1', entity: 'patient', record_id: 'p-1', field: 'phone', base_value: '0113 496 0000', server_value: '0113 496 0999', client_value: '07700 900123', client_id: 'c-x', mutation_id: 3, client_author_id: 'u-nina', server_author_id: 'u-cora', status: 'open' });

const STAFF_ONLY = ['access_notes'];
function visibleTo(user, rec) {
  if (['nurse', 'coordinator'].includes(user.role)) return rec.data;
  const pid = rec.entity === 'patient' ? rec.id : rec.data.patient_id;
  if (user.role === 'patient' && pid !== user.patient_id) return null;
  if (user.role === 'carer' && pid !== 'p-1') return null;
  if (['falls_assessment', 'activation_score', 'escalation', 'conflict', 'visit_addendum', 'carer_link'].includes(rec.entity)) return null;
  const data = { ...rec.data };
  for (const f of STAFF_ONLY) delete data[f];
  if (rec.entity === 'visit' && user.role === 'carer') return { patient_id: data.patient_id, scheduled_start: data.scheduled_start, scheduled_end: data.scheduled_end, status: data.status };
  return data;
}

const tokens = new Map(); // access token -> {user, client}
const refreshes = new Map();
const devices = [];
function issue(user, clientId) {
  const access = randomUUID(); const refresh = randomUUID();
  tokens.set(access, { user, clientId }); refreshes.set(refresh, { user, clientId });
  return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: 900, client_id: clientId, user: { ...user, patient_id: undefined } };
}
const lastMutation = new Map();

function error(res, code, message, errors = {}) { json(res, code, { code, status: String(code), message, errors }); }
function json(res, code, body) {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' });
  res.end(code === 204 ? undefined : JSON.stringify(body));
}

async function api(req, res, path, body) {
  if (req.method === 'POST' && path === '/auth/login') {
    const user = USERS[body.username];
    if (!user) return error(res, 401, 'Invalid username or password.');
    const clientId = body.client_id || randomUUID();
    if (!devices.find((d) => d.client_id === clientId)) devices.push({ client_id: clientId, user_id: user.id, username: user.username, name: body.device_name, created_at: new Date().toISOString(), last_seen_at: new Date().toISOString(), revoked_at: null });
    return json(res, 200, issue(user, clientId));
  }
  if (req.method === 'POST' && path === '/auth/refresh') {
    const session = refreshes.get(body.refresh_token);
    if (!session) return error(res, 401, 'Refresh token is not valid.', { device: 'revoked' });
    refreshes.delete(body.refresh_token);
    return json(res, 200, issue(session.user, session.clientId));
  }
  if (req.method === 'POST' && path === '/auth/enrol') return error(res, 422, 'Invitation code not recognised.', { code: ['Not valid.'] });
  const session = tokens.get((req.headers.authorization || '').replace('Bearer ', ''));
  if (!session) return error(res, 401, 'Not signed in.');
  const device = devices.find((d) => d.client_id === session.clientId);
  if (device && device.revoked_at) return error(res, 401, 'Device revoked.', { device: 'revoked' });
  const { user } = session;
  if (req.method === 'GET' && path === '/me') return json(res, 200, { ...user, client_id: session.clientId });
  if (req.method === 'POST' && path === '/auth/logout') return json(res, 204, null);
  if (req.method === 'GET' && path === '/sync/pull') {
    const url = new URL(req.url, 'http://x');
    const cursor = Number(url.searchParams.get('cursor') || 0);
    const limit = Number(url.searchParams.get('limit') || 500);
    const changes = [...records.values()].filter((r) => r.seq > cursor).sort((a, b) => a.seq - b.seq);
    const page = changes.slice(0, limit);
    const out = page.map((r) => ({ r, data: visibleTo(user, r) })).filter((x) => x.data).map(({ r, data }) => ({ entity: r.entity, id: r.id, version: r.version, deleted: r.deleted, updated_at: r.updated_at, data }));
    const next = page.length ? page[page.length - 1].seq : cursor;
    return json(res, 200, { changes: out, evictions: [], cursor: String(next), has_more: changes.length > limit, last_mutation_id: lastMutation.get(session.clientId) || 0, server_time: new Date().toISOString() });
  }
  if (req.method === 'POST' && path === '/sync/push') {
    let last = lastMutation.get(session.clientId) || 0;
    const results = [];
    for (const m of body.mutations) {
      if (m.mutation_id <= last) { results.push({ mutation_id: m.mutation_id, status: 'applied', version: 1 }); continue; }
      if (m.mutation_id !== last + 1) { results.push({ mutation_id: m.mutation_id, status: 'out_of_order' }); continue; }
      last = m.mutation_id;
      if (m.fields.times_per_week > 21 || m.fields.title === 'reject me') { results.push({ mutation_id: m.mutation_id, status: 'rejected', errors: { times_per_week: ['Must be between 1 and 21.'] } }); continue; }
      const old = records.get(`${m.entity}:${m.id}`);
      put(m.entity, m.id, { ...(old ? old.data : {}), ...m.fields }, m.op === 'delete');
      results.push({ mutation_id: m.mutation_id, status: 'applied', version: records.get(`${m.entity}:${m.id}`).version });
    }
    lastMutation.set(session.clientId, last);
    return json(res, 200, { last_mutation_id: last, results });
  }
  const resolve = path.match(/^\/conflicts\/([^/]+)\/resolve$/);
  if (req.method === 'POST' && resolve) {
    const c = records.get(`conflict:${resolve[1]}`);
    if (!c) return error(res, 404, 'Conflict not found.');
    const value = body.resolution === 'custom' ? body.value : body.resolution === 'took_client' ? c.data.client_value : c.data.server_value;
    const target = records.get(`${c.data.entity}:${c.data.record_id}`);
    put(target.entity, target.id, { ...target.data, [c.data.field]: value });
    put('conflict', c.id, { ...c.data, status: 'resolved', resolution: body.resolution, resolved_value: value, resolved_by: user.id, resolved_at: new Date().toISOString() });
    return json(res, 200, records.get(`conflict:${c.id}`).data);
  }
  if (req.method === 'GET' && path === '/devices') return json(res, 200, devices);
  const revoke = path.match(/^\/devices\/([^/]+)\/revoke$/);
  if (req.method === 'POST' && revoke) { const d = devices.find((x) => x.client_id === revoke[1]); if (d) d.revoked_at = new Date().toISOString(); return json(res, 204, null); }
  if (req.method === 'GET' && path === '/push/vapid-public-key') return error(res, 503, 'Push notifications are not set up on this server.');
  return error(res, 404, 'Not found.');
}

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/v1/')) {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    return api(req, res, url.pathname.slice('/api/v1'.length), raw ? JSON.parse(raw) : {});
  }
  const file = normalize(join(DIST, url.pathname));
  let body;
  let type = TYPES[extname(file)];
  try {
    if (!file.startsWith(DIST) || !type) throw new Error('not a file');
    body = await readFile(file);
  } catch {
    body = await readFile(join(DIST, 'index.html'));
    type = 'text/html';
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' });
  res.end(body);
}).listen(PORT, '127.0.0.1', () => console.log(`mock Doorstep on http://127.0.0.1:${PORT}`));
