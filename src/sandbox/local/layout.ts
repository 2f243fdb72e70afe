import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The whole filesystem a local sandbox sees, allowed by name (everything else of the host is
 * absent, not hidden): a read-only minimal system for node, sh and the usual tools, a private
 * /tmp, its own workdir (read-write, the only writable host path), its read-only data mounts and
 * the proxy socket. This list is the allow-list the blast-radius suite compares
 * a sandbox's view with.
 */
export const SYSTEM_RO = ['/usr'];
/** Merged-/usr symlinks, made inside as symlinks (not binds) when the host has them. */
export const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/**
 * The parts of /etc that programs need to start and to resolve names and certificates. Not
 * /etc itself: it holds shadow, ssh host keys, credentials files and whatever an operator planted.
 */
export const ETC_RO = [
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates.conf',
  '/etc/mime.types',
];
/** Where the proxy socket appears inside. */
export const PROXY_DIR_INSIDE = '/run/bulkhead';
export const PROXY_SOCKET_INSIDE = `${PROXY_DIR_INSIDE}/proxy.sock`;
/** The in-sandbox TCP port bridged to the proxy socket (loopback of the sandbox's own netns). */
export const PROXY_PORT_INSIDE = 3128;
export const TMP_SIZE_BYTES = 256 * 1024 * 1024;

export interface Layout {
  workDir: string;
  /** Host directory holding the proxy socket (and nothing else). */
  proxyDir: string;
  readOnly: string[];
  /** The node binary the daemon runs with; bound read-only when it lives outside /usr. */
  node: string;
}

/** The bwrap mount arguments for this layout. */
export function mountArgs(l: Layout): string[] {
  const a: string[] = [];
  const bound: string[] = [];
  const made = new Set<string>(['/']);
  // bwrap makes missing parents of a bind 0700 (root's): the sandbox uid could not pass them.
  const bind = (kind: string, src: string, dest: string) => {
    const parents: string[] = [];
    for (let d = path.dirname(dest); !made.has(d); d = path.dirname(d)) parents.unshift(d);
    for (const d of parents) {
      made.add(d);
      if (!bound.some((b) => d === b || d.startsWith(b + '/'))) a.push('--perms', '0755', '--dir', d);
    }
    a.push(kind, src, dest);
    bound.push(dest);
    made.add(dest);
  };
  for (const p of SYSTEM_RO) bind('--ro-bind', p, p);
  for (const p of SYSTEM_LINKS) {
    const t = linkTarget(p);
    if (t) {
      a.push('--symlink', t, p);
      made.add(p);
    } else if (existsSync(p)) bind('--ro-bind', p, p);
  }
  for (const p of ETC_RO) if (existsSync(p)) bind('--ro-bind', p, p);
  const nodeReal = safeReal(l.node);
  if (nodeReal && !nodeReal.startsWith('/usr/')) bind('--ro-bind', path.dirname(nodeReal), path.dirname(nodeReal));
  a.push('--proc', '/proc', '--dev', '/dev');
  a.push('--size', String(TMP_SIZE_BYTES), '--perms', '1777', '--tmpfs', '/tmp');
  a.push('--perms', '0755', '--dir', '/var', '--symlink', '../tmp', '/var/tmp');
  for (const p of ['/proc', '/dev', '/tmp', '/var', '/var/tmp']) made.add(p);
  for (const p of l.readOnly) bind('--ro-bind', p, p);
  bind('--ro-bind', l.proxyDir, PROXY_DIR_INSIDE);
  bind('--bind', l.workDir, l.workDir);
  return a;
}

function linkTarget(p: string): string | null {
  try {
    if (!statSync(p, { throwIfNoEntry: false })) return null;
    const real = realpathSync(p);
    // Only the merged-/usr links: a /lib that is a real directory is bound as itself.
    return real !== p && real.startsWith('/usr/') ? real.slice(1) : null;
  } catch {
    return null;
  }
}

function safeReal(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
