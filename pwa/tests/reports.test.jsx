// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { teamLists, teamCounts } from '../src/screens/coordinator/Dashboard.jsx';
import { duration } from '../src/components/ReportCharts.jsx';
import { inRiskReports } from '../src/lib/reports.js';
import { applyPullPage } from '../src/lib/sync.js';
import { wire } from './fake-server.js';

describe('team dashboard and risk opt-outs', () => {
  it('leaves patients who opted out of risk profiling out of the high-risk figure and its list', async () => {
    await applyPullPage({
      changes: [
        wire('patient', 'p-1', 1, { given_name: 'Ann' }),
        wire('patient', 'p-2', 1, { given_name: 'Bea', risk_profiling_opt_out: true }),
        wire('falls_assessment', 'f-1', 1, { patient_id: 'p-1', assessed_at: '2025-02-01T10:00:00Z', risk_level: 'high' }),
        wire('falls_assessment', 'f-2', 1, { patient_id: 'p-2', assessed_at: '2025-02-01T10:00:00Z', risk_level: 'high' }),
      ],
      evictions: [], cursor: 'c', has_more: false,
    });
    expect((await teamCounts()).highRisk).toBe(1);
    expect((await teamLists()).highRisk.map((p) => p.id)).toEqual(['p-1']);
    expect(inRiskReports({ data: { risk_profiling_opt_out: true } })).toBe(false);
    expect(inRiskReports({ data: {} })).toBe(true);
  });
});

describe('report durations', () => {
  it('reads minutes as people say them', () => {
    expect(duration(35)).toBe('35 min');
    expect(duration(120)).toBe('2 h');
    expect(duration(125.4)).toBe('2 h 5 min');
    expect(duration(1500)).toBe('1 day 1 h');
    expect(duration(null)).toBe('none acknowledged');
  });
});
