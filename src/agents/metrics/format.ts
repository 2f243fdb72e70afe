/** Number and time rendering shared by the digest, the timeline and the model's tools. */

export function iso(unix: number): string {
  return new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
}

export function hhmm(unix: number): string {
  return iso(unix).slice(11, 19).replace(/:00$/, '');
}

/** Three significant digits, no exponent for everyday magnitudes. */
export function round3(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return Number(v.toFixed(Math.min(digits, 6)));
}

export function withUnit(v: number | null, unit: string): string {
  if (v == null || Number.isNaN(v)) return 'n/a';
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${round3(x)} ${units[i]}`;
  }
  const n = round3(v);
  if (unit === '%') return `${n}%`;
  if (unit === '/s' || unit === 'bytes/s') return `${n}${unit === '/s' ? '/s' : ' B/s'}`;
  return unit ? `${n} ${unit}` : String(n);
}

/** Parses RFC 3339 or unix seconds; the scenario clock, never Date.now(). */
export function parseTime(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`cannot parse time "${s}" (use RFC 3339 or unix seconds)`);
  return t / 1000;
}

/** "30s", "2m", "1h" or plain seconds. */
export function parseDuration(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(v).trim());
  if (!m) throw new Error(`cannot parse duration "${v}" (use e.g. 30s, 2m or seconds)`);
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 's'] ?? 1;
  return Number(m[1]) * mult;
}

export function labelsText(metric: Record<string, string>): string {
  const name = metric.__name__ ?? '';
  const rest = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return rest ? `${name}{${rest}}` : name || '{}';
}
