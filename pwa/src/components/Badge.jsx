/**
 * Badges for falls risk, activation level and escalation severity. Each carries its
 * meaning in words and a shape, with colour only as a third cue.
 */
import { RISK, SEVERITY, ESCALATION_STATUS, label } from '../lib/labels.js';

const SHAPES = {
  high: '▲', intermediate: '◆', low: '●',
  emergency: '▲', urgent: '◆', routine: '●',
  open: '○', acknowledged: '◐', resolved: '●',
};

export function FallsBadge({ level, local }) {
  if (!level) return <span class="badge badge--none">Falls risk: not assessed</span>;
  return (
    <span class={`badge badge--risk-${level}`}>
      <span aria-hidden="true">{SHAPES[level]} </span>
      Falls risk: {label(RISK, level)}{local ? ' (not yet synced)' : ''}
    </span>
  );
}

export function ActivationBadge({ level, mismatch }) {
  if (!level) return <span class="badge badge--none">Activation: not recorded</span>;
  return (
    <span class={`badge badge--activation-${level}`}>
      <span aria-hidden="true">{'▮'.repeat(level)}{'▯'.repeat(4 - level)} </span>
      Activation level {level}{mismatch ? ' (tool reported a different level)' : ''}
    </span>
  );
}

export function SeverityBadge({ severity }) {
  return (
    <span class={`badge badge--sev-${severity}`}>
      <span aria-hidden="true">{SHAPES[severity] || '●'} </span>
      {label(SEVERITY, severity)}
    </span>
  );
}

export function StatusBadge({ status, table = ESCALATION_STATUS }) {
  return (
    <span class={`badge badge--status-${status}`}>
      <span aria-hidden="true">{SHAPES[status] || '•'} </span>
      {label(table, status)}
    </span>
  );
}

/** A change still on this device only; `person` words it for patients and carers. */
export function PendingBadge({ record, person = false }) {
  if (!record || !record.pending) return null;
  return <span class="badge badge--pending"><span aria-hidden="true">⟳ </span>{person ? 'Not sent yet' : 'Waiting to sync'}</span>;
}
