// The nurse screens' rules (issue 14): visit timing, next/last visit, banner wording, QR.
import { describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { visitTiming, nextAndLast } from '../src/lib/visits.js';
import { bannerName, telHref } from '../src/components/PatientBanner.jsx';
import { qrPath } from '../src/components/QrCode.jsx';
import { daySummary } from '../src/screens/staff/Today.jsx';

const visit = (id, start, end, status = 'scheduled') => ({ id, data: { scheduled_start: start, scheduled_end: end, status } });
const now = new Date('2026-12-02T13:00:00Z');

describe('visit timing', () => {
  it('is overdue after its end, missed 2 hours after, and neither once started', () => {
    expect(visitTiming(visit('a', '2026-12-02T12:00:00Z', '2026-12-02T12:30:00Z'), [], now)).toBe('overdue');
    expect(visitTiming(visit('b', '2026-12-02T10:00:00Z', '2026-12-02T10:59:00Z'), [], now)).toBe('missed');
    expect(visitTiming(visit('c', '2026-12-02T15:00:00Z', '2026-12-02T15:30:00Z'), [], now)).toBe(null);
    expect(visitTiming(visit('d', '2026-12-02T08:00:00Z', '2026-12-02T08:30:00Z', 'in_progress'), [], now)).toBe(null);
    expect(visitTiming(visit('e', '2026-12-02T08:00:00Z', '2026-12-02T08:30:00Z', 'no_access'), [], now)).toBe(null);
  });

  it('is missed as soon as the server has escalated it', () => {
    const escalation = { data: { rule: 'missed_visit', source_id: 'a', status: 'open' } };
    expect(visitTiming(visit('a', '2026-12-02T12:00:00Z', '2026-12-02T12:30:00Z'), [escalation], now)).toBe('missed');
  });
});

describe('next and last visit', () => {
  it('takes the soonest booked one ahead and the latest that happened', () => {
    const visits = [
      visit('past', '2026-11-20T10:00:00Z', '2026-11-20T10:30:00Z', 'completed'),
      visit('older', '2026-11-10T10:00:00Z', '2026-11-10T10:30:00Z', 'no_access'),
      visit('overdue', '2026-12-02T09:00:00Z', '2026-12-02T09:30:00Z'),
      visit('later', '2026-12-09T10:00:00Z', '2026-12-09T10:30:00Z'),
      visit('soon', '2026-12-03T10:00:00Z', '2026-12-03T10:30:00Z'),
      visit('cancelled', '2026-12-02T14:00:00Z', '2026-12-02T14:30:00Z', 'cancelled'),
    ];
    const { next, last } = nextAndLast(visits, now);
    expect(next.id).toBe('soon');
    expect(last.id).toBe('past');
  });
});

describe('banner and day list wording', () => {
  it('puts the surname first in capitals and dials digits only', () => {
    expect(bannerName({ given_name: 'Edith', family_name: 'Crawley' })).toBe('CRAWLEY, Edith');
    expect(telHref('01632 960-123')).toBe('tel:01632960123');
    expect(telHref('+44 1632 960123')).toBe('tel:+441632960123');
  });

  it('summarises a day in words', () => {
    const rows = [{ visit: visit('a', '', '', 'completed') }, { visit: visit('b', '', '') , timing: 'missed' }];
    expect(daySummary(rows)).toBe('2 visits: 1 completed, 1 missed.');
  });
});

describe('QR code', () => {
  it('draws every dark module of the encoded address, with a quiet zone', () => {
    const text = 'https://doorstep.example/enrol?code=ABCD-EFGH-JKMN';
    const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
    const { d, size } = qrPath(text);
    expect(size).toBe(modules.size + 8);
    const dark = Array.from(modules.data).filter(Boolean).length;
    expect(d.split('M').length - 1).toBe(dark);
  });
});
