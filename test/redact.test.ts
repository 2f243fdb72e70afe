import { describe, expect, it } from 'vitest';
import { RULE_SOURCES, redact, redactDeep, redactText } from '../src/agents/redact';

const r = (s: string) => redact(s).text;

describe('redact: what must go', () => {
  it.each([
    ['user jane.doe+shop@example.co.uk failed', 'email'],
    ['email=JOHN_SMITH@mail.example.com', 'email'],
    ['charging card 4111111111111111 now', 'card'],
    ['charging card 4111 1111 1111 1111 now', 'card'],
    ['charging card 4111-1111-1111-1111 now', 'card'],
    ['amex 3782 822463 10005 declined', 'card'],
    ['mc 5555555555554444', 'card'],
    ['token tok_1MqLx2LkdIwHu7ixQmE9aBcD', 'card_token'],
    ['payment method pm_1NXyZ2ABCdef3456', 'card_token'],
    ['card card_1Hh1aB2eZvKYlo2C0a1b2c3d', 'card_token'],
    ['card_token=abcdEFGH1234', 'card_token'],
    ['session sess_9f8e7d6c5b4a', 'session'],
    ['Cookie: JSESSIONID=1A2B3C4D5E6F7A8B9C0D', 'session'],
    ['session_id=af93kd02ld', 'session'],
    ['"sessionId": "a8f9e0b1c2"', 'session'],
    ['Authorization: Bearer abc.DEF-123_xyz456', 'bearer'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'bearer'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt'],
    ['key sk-ant-api03-AbCdEfGhIjKlMnOp', 'api_key'],
    ['OPENAI sk-proj-abcdefghijklmnop1234', 'api_key'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'api_key'],
    ['GET /v1?api_key=9f8e7d6c5b4a3210', 'api_key'],
    ['x-api-key: QWERTY123456', 'api_key'],
    ['password=hunter22', 'api_key'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'api_key'],
    ['postgres://admin:s3cret@db.internal:5432/app', 'credential'],
    ['client 10.42.7.19 connected', 'ip'],
    ['from 192.168.0.1:8080', 'ip'],
    ['peer 2001:db8:85a3::8a2e:370:7334 reset', 'ip'],
    ['peer fe80::1ff:fe23:4567:890a%eth0 reset', 'ip'],
    ['peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 reset', 'ip'],
    ['listening on ::1', 'ip'],
    // Emails: non-ASCII domains and local parts, URL-encoded @, obfuscated @.
    ['mail jürgen.müller@bücher.de bounced', 'email'],
    ['user андрей@пример.рф', 'email'],
    ['GET /unsubscribe?to=jane%40example.com&x=1', 'email'],
    ['jane%2Bshop%40example.co.uk', 'email'],
    ['double-encoded jane%2540example.com', 'email'],
    ['contact jane [at] example.org', 'email'],
    ['punycode a@xn--bcher-kva.xn--p1ai', 'email'],
    // IBANs, plain and spaced, with a valid check.
    ['IBAN DE89 3704 0044 0532 0130 00 paid', 'iban'],
    ['payout to GB82WEST12345698765432 failed', 'iban'],
    ['FR1420041010050500013M02606', 'iban'],
    // Phone numbers: E.164, international printed, US.
    ['sms to +14155552671 failed', 'phone'],
    ['call +1 (415) 555-2671', 'phone'],
    ['uk +44 20 7946 0958', 'phone'],
    ['us (415) 555-2671', 'phone'],
    ['us 415-555-2671', 'phone'],
    ['us 415.555.2671', 'phone'],
    ['toll free 1-800-555-0199', 'phone'],
    ['phone="415 555 2671"', 'phone'],
    // Authorization whatever the scheme, bearer tokens without digits.
    ['Authorization: Basic dXNlcjpwYXNzd29yZA', 'bearer'],
    ['authorization=Bearer abcdefghijklmnop', 'bearer'],
    ['{"Authorization":"Digest abcdef"}', 'bearer'],
    ['Bearer AbCdEfGhIjKlMnOp', 'bearer'],
    ['Proxy-Authorization: Basic Zm9vOmJhcg', 'bearer'],
    // Session cookies.
    ['Cookie: _shop_session=Zm9vYmFyYmF6; theme=dark', 'session'],
    ['Set-Cookie: session=abc; Path=/; HttpOnly', 'session'],
    ['session=abcdef123456', 'session'],
    ['_shop_session=QWxhZGRpbjpvcGVu', 'session'],
    ['PHPSESSID=el4ukv0kqbvoirg7nkp4dncpk3', 'session'],
    // Cloud secrets named by their key.
    ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'api_key'],
    ['AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI"', 'api_key'],
    ['userPassword=hunter22', 'api_key'],
    ['db_password: s3cr3t!', 'api_key'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----', 'private_key'],
    // Cards with dots, spaces, dashes.
    ['card 4111.1111.1111.1111 ok', 'card'],
    ['visa 4012 8888 8888 1881', 'card'],
    // Customer ids and customer fields.
    ['customer cus_NffrFeUfNV2Hib', 'customer'],
    ['customer cus_ABCDEFGHIJ', 'customer'],
    ['customer_id=C-99812', 'customer'],
    ['"userId": "u-8812"', 'customer'],
  ])('%s -> %s', (input, kind) => {
    const out = redact(input);
    expect(out.text).toContain(`[REDACTED:${kind}]`);
    expect(out.counts[kind as keyof typeof out.counts]).toBeGreaterThanOrEqual(1);
  });

  it('removes the secret itself, not just tags it', () => {
    const s = r('user a@b.io card 4242424242424242 sess_abc123def ip 10.0.0.5 Bearer abcdef123456');
    for (const secret of ['a@b.io', '4242424242424242', 'sess_abc123def', '10.0.0.5', 'abcdef123456']) {
      expect(s).not.toContain(secret);
    }
  });

  it('keeps the key name so the reader knows what was hidden', () => {
    expect(r('session_id=af93kd02ld&x=1')).toBe('session_id=[REDACTED:session]&x=1');
    expect(r('Authorization: Bearer abc.DEF-123_xyz456')).toBe('Authorization: Bearer [REDACTED:bearer]');
  });

  it('counts each occurrence', () => {
    const out = redact('a@x.com b@y.org 10.0.0.1');
    expect(out.counts.email).toBe(2);
    expect(out.counts.ip).toBe(1);
  });

  it('is idempotent', () => {
    const once = r('a@x.com card 4111111111111111 Bearer abcdef123456 session_id=zz99zz99');
    expect(r(once)).toBe(once);
  });
});

describe('redact: what must stay', () => {
  it.each([
    'deploy checkout-service-v2.14.3 rolled out',
    'version 2.14.3 and v1.2.3.4',
    'at 2026-03-15T14:28:00.123Z took 1450ms',
    'ts 14:28:00 duration 1.5s p99=120ms',
    'java.lang.NullPointerException at com.shop.PaymentProcessor.process(PaymentProcessor.java:142)',
    'epoch 1773584880000 and ns 1773584880000000000',
    'HikariPool-1 - Connection is not available, request timed out after 30000ms',
    'error code card_declined for pm_expired',
    'Basic authentication failed; Bearer token missing',
    'pool 48/50 active, error rate 12.4%',
    'mac 00:1a:2b:3c:4d:5e',
    'std::vector<int> and Foo::bar',
    'order 12345678 total 99.99',
    'trace 4bf92f3577b34da6a3ce929d0e0e4736',
    'uuid 123e4567-e89b-12d3-a456-426614174000',
    'units 200 300 4000 and 2026-03-28 14:30',
    'hotel=Hilton123 span=12345 adobe=1',
    'session: closed; session_count=4',
    'error code card_declined in_progress user_service',
    'connect ECONNREFUSED on port 5432 after +250ms',
    'Authorization failed for the request',
    'checkout-service-v2.14.3 image registry/checkout:v2.14.3',
    'rate +12.5% p99 +1450ms',
  ])('%s', (input) => {
    expect(r(input)).toBe(input);
  });

  it('does not take a non-Luhn 16-digit number for a card', () => {
    expect(r('ref 4111111111111112')).toBe('ref 4111111111111112');
  });
});

describe('redactDeep', () => {
  it('redacts strings anywhere in a JSON value and keeps the shape', () => {
    const counts = {};
    const v = redactDeep(
      { a: 'x@y.com', b: [1, 'ip 10.1.2.3', { c: null, d: true, e: 'sess_abcdef12' }], 'k a@b.io': 2 },
      counts,
    );
    expect(v).toEqual({
      a: '[REDACTED:email]',
      b: [1, 'ip [REDACTED:ip]', { c: null, d: true, e: '[REDACTED:session]' }],
      'k [REDACTED:email]': 2,
    });
    expect(counts).toEqual({ email: 2, ip: 1, session: 1 });
  });
});

describe('redact: linear time', () => {
  it('bounds every quantifier in every rule (a failed attempt costs a constant)', () => {
    for (const src of RULE_SOURCES) {
      // Escapes, then character classes, hold no quantifiers of the pattern itself.
      const bare = src.replace(/\\./g, 'e').replace(/\[[^\]]*\]/g, 'c');
      expect(bare, src).not.toMatch(/[+*]|\{\d+,\}/);
    }
  });

  const MB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  const time = (s: string) => {
    const t0 = performance.now();
    const out = redactText(s);
    return { ms: performance.now() - t0, out };
  };
  // Log-like text that passes every rule's gate: the cost of one ordinary pass over 1 MB.
  const benign = fill('2026-03-28T14:30:00Z INFO c.s.Checkout - order 12345 total=99.95 agent ok took 12ms at Foo.java:42 peer a-b:8080 x@\n');
  let baseline = 0;
  it('baseline pass', () => {
    time(benign);
    baseline = Math.min(...[0, 1, 2].map(() => time(benign).ms));
    expect(baseline).toBeGreaterThan(0);
  });

  // Near-misses of each rule repeated to 1 MB: the shapes that made the old patterns quadratic
  // (a 100 KB run of "a." took 32 s) or that would make a naive fix backtrack.
  it.each([
    'a.', 'a@', 'a@b.', 'x%40', 'ü.', '1', '4111 ', '4111.', '1.1.1.', ':', 'a:', '1:', 'password=', 'token: ',
    'Authorization: ', 'Cookie: a=', 'eyJaaaaa.', '+1 ', '+1(', '+12345', 'DE89 ', 'AB12', 'Bearer ', 'Bearer a',
    '-----BEGIN RSA PRIVATE KEY-----', 'http://', 'a://a:', 'cus_', 'cus_a', 'session=', '"token":"',
    '\\"password\\": ', '(415) ', '415-', 'sess_', 'a(at)', '&#64;', 'x=', '[REDACTED:email]',
    '%40', 'a%20', '%4', '%E2%82', 'phone=%2B1%20',
  ])('1 MB of %j finishes in linear time', (unit) => {
    const { ms, out } = time(fill(unit));
    expect(out.length).toBeGreaterThan(0);
    // Linear passes measured 0.1x-3.4x the baseline; a quadratic one is thousands of times slower.
    expect(ms, `${ms.toFixed(0)} ms vs baseline ${baseline.toFixed(0)} ms`).toBeLessThan(Math.max(30 * baseline, 1000));
  }, 120_000);

  it('a secret longer than any bound is removed whole', () => {
    const long = 'A1'.repeat(20_000);
    for (const s of [`password=${long}`, `Authorization: Bearer ${long}`, `eyJhbGciOi.eyJzdWIiOi.${long}`, `session=${long}`]) {
      const out = redactText(`${s} end`);
      expect(out).not.toContain('A1A1');
      expect(out).toMatch(/\[REDACTED:\w+\] end$/);
    }
  });
});
