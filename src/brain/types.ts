import type { AgentName, Incident } from '../schemas/agent';

/**
 * The brain's conversation as plain JSON in Anthropic Messages shape. It lives in workflow
 * history, so it holds only the incident text, tasks and redacted summaries: never data.
 */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };
export interface BrainMessage {
  role: 'user' | 'assistant';
  content: string | ContentBlock[];
}

export type BrainMode = 'anthropic' | 'openai' | 'offline';

/** One valid `dispatch` tool call of a turn. */
export interface Dispatch {
  toolUseId: string;
  agent: AgentName;
  task: string;
  /** Position among the turn's tool_use blocks (0-based); orders the tool_result blocks. */
  index?: number;
}

/** A tool call the brain got wrong (unknown agent, missing task): answered with is_error. */
export interface InvalidCall {
  toolUseId: string;
  error: string;
  /** Position among the turn's tool_use blocks (0-based); orders the tool_result blocks. */
  index?: number;
}

/** What a specialist run gave back, as the brain gets to see it. */
export type SpecialistOutcome =
  | { ok: true; summary: string; /** compact JSON of the redacted evidence */ evidence?: string }
  | { ok: false; error: string };

/** The brain's conclusion, taken from its end_turn answer. */
export interface Conclusion {
  rootCause: string;
  recommendations: string[];
  timeline: { ts: string; source: string; event: string }[];
}

export interface BrainTurnInput {
  incident: Incident;
  transcript: BrainMessage[];
  /** 1-based. At turn >= maxTurns the brain is told to conclude, and any dispatch it still makes is dropped. */
  turn: number;
  maxTurns: number;
}

export interface BrainTurnResult {
  mode: BrainMode;
  model: string | null;
  /** The assistant message to append to the transcript. */
  assistant: BrainMessage;
  dispatches: Dispatch[];
  invalid: InvalidCall[];
  /** Set when the brain ended its turn (stop_reason end_turn) or was told to stop. */
  conclusion: Conclusion | null;
  done: boolean;
  /** How many PII matches were redacted from task descriptions this turn. */
  redactedTasks: number;
}
