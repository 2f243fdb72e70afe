import type { Incident } from '../schemas/agent';

/**
 * The longest window an investigation reads. Specialists read every log line and query every
 * series of the window (plus an hour of baseline before it): a 30-day window would read a
 * month of logs for an incident that began minutes ago.
 */
export const MAX_WINDOW_HOURS = 24;

/**
 * A window longer than MAX_WINDOW_HOURS is cut to its last MAX_WINDOW_HOURS (symptoms are
 * investigated where they are reported: at the window's end), and the reason says so, so the
 * report is `partial` rather than silently complete. Pure: workflow code calls it.
 */
export function boundWindow(incident: Incident): { incident: Incident; reasons: string[] } {
  const start = Date.parse(incident.window.start);
  const end = Date.parse(incident.window.end);
  const maxMs = MAX_WINDOW_HOURS * 3_600_000;
  if (!(end - start > maxMs)) return { incident, reasons: [] };
  const cut = new Date(end - maxMs).toISOString();
  const days = ((end - start) / 86_400_000).toFixed(1).replace(/\.0$/, '');
  return {
    incident: { ...incident, window: { start: cut, end: incident.window.end } },
    reasons: [
      `window ${incident.window.start} .. ${incident.window.end} (${days} days) is longer than the ${MAX_WINDOW_HOURS} h limit: only its last ${MAX_WINDOW_HOURS} h (from ${cut}) were investigated`,
    ],
  };
}
