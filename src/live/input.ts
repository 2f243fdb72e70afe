import type { AgentName, Incident, Sources } from '../schemas/agent';
import type { ConfigFile } from '../schemas/config-file';
import type { InvestigateInput, NotifyTarget } from '../workflows/types';

/** What a person (CLI) or an alert says about the incident happening now. */
export interface LiveRequest {
  id: string;
  title: string;
  service: string;
  severity: string;
  report: string;
  window: { start: string; end: string };
  now: string;
}

/**
 * The sources one investigation may read, narrowed to its service: a log dir that names a
 * service is mounted only for that service, a bare path for every investigation.
 */
export function sourcesFor(cfg: ConfigFile, service: string): Sources {
  const s = cfg.sources;
  const logDirs = (s.logs?.dirs ?? []).flatMap((d) => (typeof d === 'string' ? [d] : d.service === service ? [d.path] : []));
  return {
    ...(s.prometheus ? { prometheusUrl: s.prometheus.url } : {}),
    ...(s.prometheus?.auth_env ? { prometheusAuthEnv: s.prometheus.auth_env } : {}),
    ...(s.loki ? { lokiUrl: s.loki.url } : {}),
    ...(s.loki?.tenant ? { lokiTenant: s.loki.tenant } : {}),
    ...(s.loki?.auth_env ? { lokiAuthEnv: s.loki.auth_env } : {}),
    ...(logDirs.length ? { logDirs } : {}),
    ...(logDirs.length && s.logs?.timezone ? { logTimezone: s.logs.timezone } : {}),
    ...(s.runbooks ? { runbooksDir: s.runbooks.dir } : {}),
  };
}

/** Specialists with nothing to read: reported as "not configured", not run and not failed. */
export function unconfiguredAgents(sources: Sources, service: string): { agent: AgentName; reason: string }[] {
  const out: { agent: AgentName; reason: string }[] = [];
  if (!sources.prometheusUrl) out.push({ agent: 'metrics_agent', reason: 'no sources.prometheus in the config file' });
  if (!sources.lokiUrl && !sources.logDirs?.length) {
    out.push({ agent: 'log_agent', reason: `no sources.loki and no sources.logs dir for ${service}` });
  }
  if (!sources.runbooksDir) out.push({ agent: 'runbook_agent', reason: 'no sources.runbooks in the config file' });
  return out;
}

export function notifyTargets(cfg: ConfigFile): NotifyTarget[] {
  return cfg.notify.map((n) => ({ ...(n.url ? { url: n.url } : {}), ...(n.url_env ? { urlEnv: n.url_env } : {}), format: n.format }));
}

/** The workflow input of a live investigation: the incident's description and where its data is. */
export function liveInput(cfg: ConfigFile, req: LiveRequest, link?: string): InvestigateInput {
  const incident: Incident = { ...req };
  const sources = sourcesFor(cfg, req.service);
  return {
    incident,
    sources,
    unconfigured: unconfiguredAgents(sources, req.service),
    notify: notifyTargets(cfg),
    ...(link ? { link } : {}),
  };
}

/** A file-safe id from free text: lower case, dashes, bounded. */
export function slug(text: string, max = 40): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max)
      .replace(/-+$/, '') || 'incident'
  );
}

/** `2026-12-01T05:30:00.000Z` -> `20261201t053000z`: sortable, file-safe. */
export const compactTime = (iso: string) => iso.replace(/\.\d+/, '').replace(/[-:]/g, '').toLowerCase();
