/** Durations and times in words a reviewer reads at a glance. */

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

export interface SlaState {
  text: string;
  /** Less than 10 % of the SLA left, or overdue. */
  urgent: boolean;
  overdue: boolean;
}

/** Time left to the SLA; the whole SLA runs from `start` (pending since) to `due`. */
export function slaState(due: string, start: string | undefined, now: number): SlaState {
  const dueMs = Date.parse(due);
  const left = (dueMs - now) / 1000;
  const total = start ? (dueMs - Date.parse(start)) / 1000 : NaN;
  if (left <= 0) return { text: `overdue by ${formatDuration(-left)}`, urgent: true, overdue: true };
  const urgent = Number.isFinite(total) && total > 0 ? left < total * 0.1 : left < 60;
  return { text: `${formatDuration(left)} left`, urgent, overdue: false };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const v = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(v) && v >= 0 ? v : null;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
