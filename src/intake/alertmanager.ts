import { createHash } from 'node:crypto';
import { z } from 'zod';
import { durationMs, type ConfigFile } from '../schemas/config-file';
import type { LiveRequest } from '../live/input';
import { mdText } from '../workflows/details';

/**
 * The Alertmanager webhook payload, version 4 (prometheus/alertmanager notify/webhook/webhook.go:
 * `Message{*template.Data, Version, GroupKey, TruncatedAlerts}`; template/template.go: `Data{Receiver,
 * Status, Alerts, GroupLabels, CommonLabels, CommonAnnotations, ExternalURL}`, each `Alert{Status,
 * Labels, Annotations, StartsAt, EndsAt, GeneratorURL, Fingerprint}`). Only what we use is required;
 * the rest may be missing or odd (other senders post this shape too).
 */
const Time = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'an RFC 3339 time');
const Labels = z.record(z.string(), z.string());
export const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']).optional(),
  labels: Labels,
  annotations: Labels.optional().catch({}),
  startsAt: Time,
  endsAt: z.string().optional().catch(undefined),
  generatorURL: z.string().optional().catch(undefined),
  fingerprint: z.string().optional().catch(undefined),
});
export const AlertmanagerPayload = z.object({
  version: z.string().min(1),
  groupKey: z.string().min(1),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional().catch(undefined),
  alerts: z.array(AlertSchema).min(1),
  groupLabels: Labels.optional().catch({}),
  commonLabels: Labels.optional().catch({}),
  commonAnnotations: Labels.optional().catch({}),
  externalURL: z.string().optional().catch(undefined),
  truncatedAlerts: z.number().optional().catch(undefined),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

/** A bad request: HTTP 400 (CLI exit 2) naming the field, and nothing started. */
export class PayloadError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'PayloadError';
  }
}

export function parsePayload(raw: unknown): AlertmanagerPayload {
  const r = AlertmanagerPayload.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new PayloadError(i.path.map(String).join('.') || '(body)', i.message);
  }
  if (r.data.version !== '4') throw new PayloadError('version', `webhook payload version ${r.data.version} is not supported (4 is)`);
  return r.data;
}

/** One investigation per group key: a re-sent notification maps to the very same id. */
export const alertIncidentId = (groupKey: string) => `am-${createHash('sha256').update(groupKey).digest('hex').slice(0, 16)}`;

export interface AlertInvestigation {
  groupKey: string;
  request: LiveRequest;
  /** Markdown for the Temporal UI's static details: the alert that started it. */
  details: string;
}

const first = (values: (string | undefined)[]) => values.find((v) => v !== undefined && v.trim() !== '');

/**
 * The investigation a firing group asks for, or null for `resolved` (which starts nothing).
 * The service comes from the configured label, then `job`, then `app`.
 */
export function alertInvestigation(p: AlertmanagerPayload, cfg: ConfigFile, now: Date): AlertInvestigation | null {
  if (p.status === 'resolved') return null;
  const firing = p.alerts.filter((a) => (a.status ?? 'firing') === 'firing');
  if (!firing.length) return null;
  const labelOf = (name: string) => first([p.commonLabels?.[name], p.groupLabels?.[name], ...firing.map((a) => a.labels[name])]);
  const label = cfg.intake.service_label;
  const service = first([label, 'job', 'app'].map(labelOf));
  if (!service) throw new PayloadError(`alerts.0.labels.${label}`, `no ${label}, job or app label names the service`);
  const severity = labelOf('severity') ?? 'unknown';
  const alertname = labelOf('alertname') ?? 'alert';
  const texts = [
    ...new Set(
      firing.flatMap((a) => [a.annotations?.summary, a.annotations?.description]).concat(p.commonAnnotations?.summary, p.commonAnnotations?.description)
        .filter((t): t is string => !!t && t.trim() !== ''),
    ),
  ];
  const report = texts.length ? texts.join('\n') : `${alertname} firing for ${service}`;
  const startsAt = Math.min(...firing.map((a) => Date.parse(a.startsAt)));
  const lookback = durationMs(cfg.intake.lookback)!;
  // Alertmanager sends the time the condition began; the window reaches back `lookback` so the
  // onset is inside it and the baseline before it, and forward to now.
  const end = now.getTime();
  const start = Math.min(startsAt - lookback, end - 60_000);
  const title = `${alertname}: ${first([firing[0]!.annotations?.summary, p.commonAnnotations?.summary]) ?? service}`.slice(0, 120);
  return {
    groupKey: p.groupKey,
    request: {
      id: alertIncidentId(p.groupKey),
      title,
      service,
      severity,
      report,
      window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      now: now.toISOString(),
    },
    details: alertDetails(p, firing),
  };
}

const cell = (s: string) => mdText(s.slice(0, 200)).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function alertDetails(p: AlertmanagerPayload, firing: AlertmanagerPayload['alerts']): string {
  const lines = [`**Started by an Alertmanager notification** (receiver \`${p.receiver ?? '?'}\`, ${firing.length} firing alert(s))`, ''];
  lines.push('| alert | labels | summary | since |', '| --- | --- | --- | --- |');
  for (const a of firing.slice(0, 10)) {
    const labels = Object.entries(a.labels)
      .filter(([k]) => k !== 'alertname')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    lines.push(`| ${cell(a.labels.alertname ?? '')} | ${cell(labels)} | ${cell(a.annotations?.summary ?? a.annotations?.description ?? '')} | ${cell(a.startsAt)} |`);
  }
  if (p.externalURL) lines.push('', `Alertmanager: ${p.externalURL}`);
  lines.push('', `Group key: \`${cell(p.groupKey)}\``);
  return lines.join('\n');
}
