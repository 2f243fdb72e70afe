import { ApplicationFailure } from '@temporalio/common';
import { InputError } from '../errors';
import { loadScenario as load } from '../scenario/load';
import type { Incident, Sources } from '../schemas/agent';

export function createScenarioActivities() {
  return {
    /** Reads the scenario on the worker's host; only its description and paths enter history. */
    async loadScenario({ dir }: { dir: string }): Promise<{ incident: Incident; sources: Sources }> {
      try {
        const s = await load(dir);
        return { incident: s.incident, sources: s.sources };
      } catch (e) {
        if (e instanceof InputError) throw ApplicationFailure.nonRetryable(e.message, 'InvalidScenario');
        throw e;
      }
    },
  };
}
