import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { InputError } from '../errors';
import { loadScenario as load } from '../scenario/load';
import type { Incident, Sources } from '../schemas/agent';
import { scenarioPrometheus } from '../stack/scenario-prometheus';
import { heartbeating } from './heartbeat';

export function createScenarioActivities(config?: Pick<Config, 'PROMETHEUS_URL'>) {
  return {
    /**
     * Reads the scenario on the worker's host; only its description and paths enter history.
     * A scenario with metrics gets its own Prometheus (src/stack/scenario-prometheus.ts): its URL
     * is the investigation's prometheusUrl, so its metrics sandbox reaches that one only. A worker
     * given PROMETHEUS_URL (the embedded `investigate` stack, loaded with this one scenario; or a
     * deployment's real Prometheus) uses that instead.
     */
    async loadScenario({ dir }: { dir: string }): Promise<{ incident: Incident; sources: Sources }> {
      try {
        const s = await load(dir);
        if (!s.omFiles.length || config?.PROMETHEUS_URL) return { incident: s.incident, sources: s.sources };
        const prometheusUrl = await heartbeating(3000, () => scenarioPrometheus(s.dir, s.omFiles));
        return { incident: s.incident, sources: { ...s.sources, prometheusUrl } };
      } catch (e) {
        if (e instanceof InputError) throw ApplicationFailure.nonRetryable(e.message, 'InvalidScenario');
        throw e;
      }
    },
  };
}
