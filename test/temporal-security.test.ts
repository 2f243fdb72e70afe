import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalSecurity } from '../src/stack/temporal-security';

// What the Helm chart sets for Temporal Cloud and mTLS clusters, read back as connection options.
const dir = mkdtempSync(path.join(os.tmpdir(), 'bh-temporal-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('temporalSecurity', () => {
  it('is plaintext for a dev server', () => {
    expect(temporalSecurity({})).toEqual({});
    expect(temporalSecurity({ TEMPORAL_TLS: 'false' })).toEqual({});
  });
  it('Temporal Cloud: an API key implies TLS', () => {
    expect(temporalSecurity({ TEMPORAL_API_KEY: 'k' })).toEqual({ tls: {}, apiKey: 'k' });
    expect(temporalSecurity({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud' })).toEqual({ tls: { serverNameOverride: 'ns.tmprl.cloud' } });
  });
  it('mTLS reads the mounted files, and wants both halves of the pair', () => {
    const crt = file('tls.crt', 'CERT');
    const key = file('tls.key', 'KEY');
    const ca = file('ca.crt', 'CA');
    const s = temporalSecurity({ TEMPORAL_TLS_CERT: crt, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca });
    expect(s.tls?.clientCertPair?.crt.toString()).toBe('CERT');
    expect(s.tls?.clientCertPair?.key.toString()).toBe('KEY');
    expect(s.tls?.serverRootCACertificate?.toString()).toBe('CA');
    expect(() => temporalSecurity({ TEMPORAL_TLS_CERT: crt })).toThrow(/^TEMPORAL_TLS_KEY: /);
  });
});
