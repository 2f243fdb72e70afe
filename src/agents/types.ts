import type { AgentInput, Evidence } from '../schemas/agent';

/**
 * A query tool an agent offers the model (OpenAI function tool) so it can ask for more evidence.
 * `run` executes inside the sandbox and returns text that is redacted before the model sees it.
 */
export interface AgentTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  run(args: Record<string, unknown>): Promise<string>;
}

/** What an agent's deterministic evidence-gathering phase produces. */
export interface Gathered {
  evidence: Evidence;
  /** A compact, redacted text rendering of the evidence: what the model reads and the fallback summary. */
  digest: string;
  tools: AgentTool[];
  warnings: string[];
}

export type Gather = (input: AgentInput, log: (msg: string) => void) => Promise<Gathered>;
