/**
 * Co-ordinator reports: fetched online from /api/v1/reports/* (worked out on the server
 * from the whole team's records, never from this device's copy), CSV downloads, and the
 * risk-report opt-out rule as the PWA applies it to its own counts (the dashboard).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, API_BASE, refreshTokens, NetworkError } from './api.js';
import { getMeta } from './db.js';

export const REPORT_NAMES = ['caseload', 'escalations', 'visits'];

/**
 * SPEC §1: a patient who opted out of risk stratification is left out of risk reports
 * and risk counts. The server's rule is server/reports/caseload.py `in_risk_reports`.
 */
export const inRiskReports = (patient) => !(patient && patient.data && patient.data.risk_profiling_opt_out === true);

const query = (teamId, extra = {}) => {
  const params = new URLSearchParams({ ...(teamId ? { team_id: teamId } : {}), ...extra });
  const text = params.toString();
  return text ? `?${text}` : '';
};

export async function fetchReports(teamId) {
  const bodies = await Promise.all(REPORT_NAMES.map((name) => api(`/reports/${name}${query(teamId)}`)));
  return Object.fromEntries(REPORT_NAMES.map((name, i) => [name, bodies[i]]));
}

/** The reports, fetched when online; refetched when the connection comes back. */
export function useReports(teamId) {
  const [state, setState] = useState({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    const load = () => {
      if (globalThis.navigator && navigator.onLine === false) {
        setState({ status: 'offline' });
        return;
      }
      setState((s) => (s.data ? s : { status: 'loading' }));
      fetchReports(teamId).then(
        (data) => live && setState({ status: 'ready', data }),
        (error) => live && setState({ status: error instanceof NetworkError ? 'offline' : 'error', error }),
      );
    };
    load();
    addEventListener('online', load);
    addEventListener('offline', load);
    return () => { live = false; removeEventListener('online', load); removeEventListener('offline', load); };
  }, [teamId, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

async function fetchCsv(path) {
  const send = async () => fetch(`${API_BASE}${path}`, {
    headers: { Accept: 'text/csv', Authorization: `Bearer ${await getMeta('access_token')}` },
    cache: 'no-store',
  });
  let response;
  try {
    response = await send();
    if (response.status === 401) {
      await refreshTokens();
      response = await send();
    }
  } catch (err) {
    throw new NetworkError(err);
  }
  if (!response.ok) throw new Error(`The report could not be downloaded (${response.status}).`);
  return { blob: await response.blob(), disposition: response.headers.get('Content-Disposition') || '' };
}

/** Download one report as a CSV file (the server names it). */
export async function downloadCsv(name, teamId) {
  const { blob, disposition } = await fetchCsv(`/reports/${name}${query(teamId, { format: 'csv' })}`);
  const found = /filename="([^"]+)"/.exec(disposition);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = found ? found[1] : `doorstep-${name}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
