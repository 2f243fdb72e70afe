import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ResolvedPolicy } from '../../schemas/policy';
import { SandboxError } from '../driver';

/** The srt package dir: srt's seccomp helper lives under vendor/ and must stay readable inside. */
export const SRT_PKG_DIR = path.dirname(createRequire(import.meta.url).resolve('@anthropic-ai/sandbox-runtime/package.json'));
export const SRT_CLI = path.join(SRT_PKG_DIR, 'dist', 'cli.js');
/** The repo root: holds .tools (the Temporal binary), other incidents' scenarios and node_modules. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface SrtSettings {
  network: { allowedDomains: string[]; deniedDomains: string[]; strictAllowlist: boolean; allowLocalBinding: boolean };
  filesystem: { denyRead: string[]; allowRead: string[]; allowWrite: string[]; denyWrite: string[] };
}

export interface FsLayout {
  stateDir: string;
  workDir: string;
  daemonPath: string;
  /** srt's TMPDIR: its proxy bridge socket must stay reachable inside (sockets are exempt from ro mounts). */
  tmpDir: string;
  sandboxRoot: string;
  readOnly: string[];
}

/**
 * Reads are allowed by default in srt, so everything that may hold another party's data is denied
 * here and only this sandbox's own files and data mounts are bound back. A denied directory shows
 * inside as an empty private tmpfs (so /tmp inside is private and throwaway).
 */
export function filesystemRules(l: FsLayout): SrtSettings['filesystem'] {
  const denyRead = unique([
    os.homedir(),
    '/root',
    '/home',
    REPO_ROOT,
    l.sandboxRoot,
    '/tmp',
    '/var/tmp',
    '/dev/shm',
    '/run/secrets',
    '/etc/shadow',
    '/etc/gshadow',
    '/etc/ssh',
    '/etc/ssl/private',
    // srt always keeps /tmp/claude writable for its own TMPDIR; were it on the host it would be
    // shared by every sandbox, so it is hidden like the rest of /tmp.
    '/tmp/claude',
  ]);
  const allowRead = unique([path.join(SRT_PKG_DIR, 'vendor'), l.daemonPath, l.tmpDir, l.workDir, ...l.readOnly]);
  return { denyRead, allowRead, allowWrite: [l.workDir], denyWrite: [] };
}

/** Deny-all network: srt's proxy refuses everything not listed. */
export function buildSettings(fs: SrtSettings['filesystem'], allowedDomains: string[] = [], deniedDomains: string[] = []): SrtSettings {
  return { network: { allowedDomains, deniedDomains, strictAllowlist: true, allowLocalBinding: false }, filesystem: fs };
}

/** host:port entries for srt's allowlist; an IPv6 literal must be bracketed. */
export function allowedDomainsFor(policy: ResolvedPolicy): string[] {
  const out = new Set<string>();
  for (const e of policy.endpoints) {
    const host = e.host.replace(/^\[|\]$/g, '');
    if (!host || /[\s/*,]/.test(host) || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      throw new SandboxError(`policy endpoint ${e.name}: invalid host:port ${e.host}:${e.port}`, 'PolicyRejected', false);
    }
    out.add(host.includes(':') ? `[${host}]:${e.port}` : `${host}:${e.port}`);
  }
  return [...out];
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.map((x) => path.resolve(x)))];
}
