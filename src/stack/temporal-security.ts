import { readFileSync } from 'node:fs';

/**
 * TLS and API key for a Temporal frontend that needs them (Temporal Cloud, a self-hosted cluster
 * with mTLS), from the environment the Helm chart sets: TEMPORAL_TLS=true for server-verified TLS,
 * TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (file paths) for mTLS, TEMPORAL_TLS_CA to trust a private
 * CA, TEMPORAL_TLS_SERVER_NAME to override SNI, TEMPORAL_API_KEY (which implies TLS). Empty for a
 * plaintext dev server. Secrets stay in files and the worker's environment, never in workflows.
 */
export function temporalSecurity(env: NodeJS.ProcessEnv = process.env): {
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
} {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if (!!cert !== !!key) throw new Error(`${cert ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`);
  const wantTls = env.TEMPORAL_TLS === 'true' || !!apiKey || !!cert || !!env.TEMPORAL_TLS_CA;
  if (!wantTls) return {};
  return {
    tls: {
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(env.TEMPORAL_TLS_CA ? { serverRootCACertificate: readFileSync(env.TEMPORAL_TLS_CA) } : {}),
      ...(cert && key ? { clientCertPair: { crt: readFileSync(cert), key: readFileSync(key) } } : {}),
    },
    ...(apiKey ? { apiKey } : {}),
  };
}
