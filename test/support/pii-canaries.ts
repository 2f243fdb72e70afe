/**
 * Canaries of every PII and secret class the redactor must remove, each random per run (so no
 * test can pass by matching a fixed string) and valid where the class has a checksum (Luhn,
 * IBAN mod 97), and the shapes logs carry them in: JSON fields, JSON inside a string, logfmt,
 * URL queries, HTTP headers, free text.
 */
import { randomBytes, randomInt } from 'node:crypto';

export interface Canary {
  kind: string;
  /** As it appears in the data. */
  value: string;
  /** The field it is logged under, for keyed shapes. */
  key: string;
  /** Substrings that must never reach any output (the value, and its unformatted core). */
  secrets: string[];
  /** Whether the value is recognisable without its key (free text). */
  bare: boolean;
  /** An HTTP header that carries it, when that is how it travels. */
  header?: string;
}

const letters = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const digits = (n: number) => Array.from({ length: n }, () => String(randomInt(10))).join('');
const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);

function luhnComplete(partial: string): string {
  for (let d = 0; d < 10; d++) {
    const s = partial + d;
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      let x = Number(s[s.length - 1 - i]);
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('unreachable');
}

function iban(country: string, bbanLen: number): string {
  const bban = digits(bbanLen);
  const num = [...`${bban}${country}00`].map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55))).join('');
  let rem = 0;
  for (const c of num) rem = (rem * 10 + Number(c)) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}

const group4 = (s: string, sep: string) => s.match(/.{1,4}/g)!.join(sep);

export function makeCanaries(): Canary[] {
  const tag = hex(6);
  const card = luhnComplete(`4${digits(14)}`);
  const de = iban('DE', 18);
  const gb = iban('NL', 14);
  const basic = Buffer.from(`svc${letters(6)}:${letters(10)}`).toString('base64').replace(/[0-9=]/g, 'Q');
  const usLine = digits(4);
  const c = (x: Omit<Canary, 'secrets'> & { secrets?: string[] }): Canary => ({ ...x, secrets: x.secrets ?? [x.value] });
  return [
    c({ kind: 'email', key: 'email', value: `canary.${tag}@example.com`, bare: true, secrets: [`canary.${tag}`] }),
    c({ kind: 'email', key: 'customer_email', value: `jörg.${tag}@bücher-${tag}.de`, bare: true, secrets: [`jörg.${tag}`, `bücher-${tag}`] }),
    c({ kind: 'email', key: 'to', value: `ops.${tag}%40example.org`, bare: true, secrets: [`ops.${tag}`] }),
    c({ kind: 'iban', key: 'iban', value: de, bare: true, secrets: [de, de.slice(4, 12)] }),
    c({ kind: 'iban', key: 'payout_account', value: group4(gb, ' '), bare: true, secrets: [gb.slice(4, 8) + ' ' + gb.slice(8, 12), gb] }),
    c({ kind: 'phone', key: 'phone', value: `+1415${digits(7)}`, bare: true }),
    c({ kind: 'phone', key: 'mobile', value: `+44 20 7946 ${digits(4)}`, bare: true }),
    c({ kind: 'phone', key: 'contact_phone', value: `(415) 555-${usLine}`, bare: true, secrets: [`555-${usLine}`] }),
    c({ kind: 'basic', key: 'authorization', header: 'Authorization', value: `Basic ${basic}`, bare: false, secrets: [basic] }),
    c({ kind: 'bearer', key: 'authorization', header: 'Authorization', value: `Bearer ${letters(28)}`, bare: true }),
    c({ kind: 'cookie', key: 'session', value: `${letters(12)}${digits(6)}`, bare: false }),
    c({ kind: 'cookie', key: '_shop_session', header: 'Cookie', value: `${letters(20)}%3D%3D--${hex(16)}`, bare: false }),
    c({ kind: 'aws', key: 'aws_secret_access_key', value: `${letters(18)}/${letters(10)}+${letters(11)}`, bare: false }),
    c({ kind: 'card', key: 'card', value: group4(card, '.'), bare: true, secrets: [group4(card, '.'), card, card.slice(4, 12)] }),
    c({ kind: 'card', key: 'pan', value: group4(card, ' '), bare: true, secrets: [group4(card, ' '), card.slice(4, 8) + ' ' + card.slice(8, 12)] }),
    c({ kind: 'card', key: 'cc', value: group4(card, '-'), bare: true, secrets: [group4(card, '-'), card.slice(4, 8) + '-' + card.slice(8, 12)] }),
    (() => {
      const body = letters(14);
      return c({ kind: 'customer', key: 'customer', value: `cus_${body}`, bare: true, secrets: [`cus_${body}`, body] });
    })(),
    c({ kind: 'customer', key: 'customer_id', value: `C-${digits(7)}`, bare: false }),
    c({ kind: 'jwt', key: 'id_token', value: `eyJ${letters(20)}.eyJ${letters(30)}.${letters(24)}`, bare: true }),
    c({ kind: 'api_key', key: 'api_key', value: `sk-ant-api03-${letters(24)}`, bare: true }),
    c({ kind: 'aws_key_id', key: 'access_key_id', value: `AKIA${letters(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, bare: true }),
    c({ kind: 'ip', key: 'client_ip', value: `203.0.113.${randomInt(1, 255)}`, bare: true }),
    c({ kind: 'ip', key: 'peer', value: `2001:db8:${hex(4)}::${hex(4)}`, bare: true }),
  ];
}

/** The shapes a log line can carry a canary in. Keyed shapes need the key; free text only a bare class. */
export function shapesOf(k: Canary): string[] {
  const v = k.value;
  const out = [
    JSON.stringify({ ts: '2026-03-28T14:31:07.120Z', level: 'error', msg: 'payment failed', [k.key]: v }),
    `{"log":${JSON.stringify(JSON.stringify({ msg: 'charge failed', [k.key]: v }))}}`,
    `2026-03-28T14:31:07Z level=error msg="charge failed" ${k.key}=${v.includes(' ') ? JSON.stringify(v) : v} took=12ms`,
    `${k.key}: ${v}`,
    `GET https://shop.example.com/api/v1/orders?${k.key}=${encodeURIComponent(v)}&page=2 HTTP/1.1`,
  ];
  if (k.header) out.push(`${k.header}: ${k.header === 'Cookie' ? `${k.key}=${v}; cart=3` : v}`);
  if (k.bare) {
    out.push(`ERROR c.s.PaymentProcessor - charge for ${v} declined, retrying`);
    out.push(`could not notify '${v}' (attempt 3)`);
    out.push(`<${v}>`);
  }
  return out;
}
