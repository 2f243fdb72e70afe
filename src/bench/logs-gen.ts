/**
 * Synthetic log files for the log-throughput benchmark, written as a stream (10M lines never sit
 * in memory): a checkout service's JSONL (scenario format, about 440 bytes a line, like the
 * bundled scenarios) or plain text (logback lines, about 200 bytes), 90% INFO, a background of
 * warnings and errors, an incident after 60% of the lines, and a deploy just before it. Ids
 * change on every line so the templates, not the lines, are what repeats.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export type BenchLogFormat = 'jsonl' | 'text';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const INFO = [
  (r: () => number) => `c.s.checkout.web.OrderController - order ord_${(r() * 1e12).toString(36)} placed items=${Math.floor(r() * 9) + 1} total=${(r() * 500).toFixed(2)} EUR customer=cust_${Math.floor(r() * 1e6)} took ${Math.floor(r() * 200)}ms`,
  (r: () => number) => `c.s.checkout.payment.CardValidator - BIN lookup ok brand=VISA request_id=req_${Math.floor(r() * 1e15).toString(16)} latency_ms=${Math.floor(r() * 90)}`,
  (r: () => number) => `c.s.checkout.cart.CartService - cart cart_${Math.floor(r() * 1e9)} refreshed from cache node cache-${Math.floor(r() * 6)} in ${Math.floor(r() * 20)}ms`,
  (r: () => number) => `o.a.c.c.C.[Tomcat].[localhost] - GET /api/checkout/${Math.floor(r() * 1e6)} 200 ${Math.floor(r() * 5000)} bytes from 10.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
];
const WARN = (r: () => number) => `c.s.checkout.db.ConnectionPoolMonitor - Connection pool near exhaustion: HikariPool-1 (total=50, active=${40 + Math.floor(r() * 10)}, idle=${Math.floor(r() * 5)}, waiting=${Math.floor(r() * 40)})`;
const ERROR = (r: () => number) => `c.s.checkout.payment.PaymentProcessor - java.lang.NullPointerException in PaymentProcessor.java:142: Cannot invoke "Connection.prepareStatement(String)" because "conn" is null (order=ord_${Math.floor(r() * 1e9)})`;
const BACKGROUND = (r: () => number) => `c.s.checkout.promo.PromoClient - promo lookup failed for code SPRING${Math.floor(r() * 99)}: 404 Not Found`;

/** Writes `n` lines over the hour before `endMs`; returns the bytes written. */
export async function writeBenchLogs(file: string, n: number, format: BenchLogFormat, endMs: number, seed = 7): Promise<number> {
  const r = rng(seed);
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const startMs = endMs - 60 * 60_000;
  const step = (endMs - startMs) / n;
  const incidentAt = Math.floor(n * 0.6);
  let bytes = 0;
  let buf = '';
  for (let i = 0; i < n; i++) {
    const ts = startMs + i * step;
    let level = 'INFO';
    let msg: string;
    const x = r();
    if (i === incidentAt - Math.floor(n * 0.02)) {
      msg = 'c.s.deploy.Rollout - deploy started: checkout-service-v2.14.3 image=registry.local/shop/checkout-service:v2.14.3';
    } else if (i >= incidentAt && x < 0.08) {
      level = 'ERROR';
      msg = ERROR(r);
    } else if (i >= incidentAt && x < 0.2) {
      level = 'WARN';
      msg = WARN(r);
    } else if (x < 0.003) {
      level = 'ERROR';
      msg = BACKGROUND(r);
    } else msg = INFO[Math.floor(r() * INFO.length)]!(r);
    const thread = `http-nio-8080-exec-${Math.floor(r() * 200)}`;
    const iso = new Date(ts).toISOString();
    if (format === 'jsonl') {
      buf += `${JSON.stringify({
        ts: iso,
        labels: { app: 'checkout-service', namespace: 'shop', pod: `checkout-service-6f7c9d8b4-${(Math.floor(r() * 1e8) + 1e8).toString(36).slice(0, 5)}`, container: 'checkout', level: level.toLowerCase() },
        line: `${level} [${thread}] ${msg}`,
      })}\n`;
    } else {
      buf += `${iso.replace('T', ' ').replace('Z', '').replace('.', ',')} ${level.padEnd(5)} [${thread}] ${msg}\n`;
    }
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return bytes;
}
