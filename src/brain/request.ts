import { initialMessage } from './initial';
import { FINAL_TURN_NOTE } from './prompt';
import type { BrainMessage, BrainTurnInput, ContentBlock } from './types';

export const isLastTurn = (input: BrainTurnInput) => input.turn >= input.maxTurns;

/**
 * The messages one request sends. The transcript may start with initialMessage(incident) or
 * leave it out (it is derived from the incident, so history need not hold it twice); either way
 * the request starts with it. The final-turn note rides on the request only: it is an
 * instruction of ours, not part of the conversation's record.
 */
export function requestMessages(input: BrainTurnInput): BrainMessage[] {
  const messages =
    input.transcript[0]?.role === 'user' ? [...input.transcript] : [initialMessage(input.incident), ...input.transcript];
  if (!isLastTurn(input)) return messages;
  const last = messages[messages.length - 1]!;
  if (last.role !== 'user') return [...messages, { role: 'user', content: FINAL_TURN_NOTE }];
  const content: ContentBlock[] =
    typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...last.content];
  content.push({ type: 'text', text: FINAL_TURN_NOTE });
  messages[messages.length - 1] = { role: 'user', content };
  return messages;
}
