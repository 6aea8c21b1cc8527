const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const MAX_WINDOW_SECONDS = 366 * 86400;

/** `90m`, `24h`, `7d` → seconds; null when it is not such a duration or longer than a year. */
export function parseWindow(text: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) return null;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  return seconds > 0 && seconds <= MAX_WINDOW_SECONDS ? seconds : null;
}
