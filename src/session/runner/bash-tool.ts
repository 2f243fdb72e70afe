import { spawn } from 'node:child_process';
import type { BetaRunnableTool } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool';

const MAX_OUTPUT = 100_000;

/**
 * The session's `bash` tool: each call runs `/bin/bash -c COMMAND` in the agent's workdir, with
 * ANTHROPIC_* removed from its environment (as the CLI's and the SDK's toolsets do, the sheet
 * "Tool calls inside a session") and BULKHEAD_TOOL_USE_ID set, so `dispatch` can name its
 * specialists after the call and a re-delivered call joins them instead of starting new ones.
 * The runner's abort signal (the 120 s cut, or shutdown) kills the whole process group.
 */
export function bashTool(workdir: string): BetaRunnableTool {
  return {
    type: 'custom',
    name: 'bash',
    description: 'Run a bash command',
    input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
    run: (input: unknown, ctx) =>
      new Promise<string>((resolve, reject) => {
        const command = (input as { command?: unknown })?.command;
        if (typeof command !== 'string') return reject(new Error('command: expected a string'));
        const env: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ANTHROPIC_')) env[k] = v;
        env.BULKHEAD_TOOL_USE_ID = (ctx?.toolUse as { id?: string } | undefined)?.id ?? '';
        const child = spawn('/bin/bash', ['-c', command], { cwd: workdir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const take = (c: Buffer) => {
          if (out.length < MAX_OUTPUT) out += c.toString('utf8');
        };
        child.stdout.on('data', take);
        child.stderr.on('data', take);
        const kill = () => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        };
        ctx?.signal?.addEventListener('abort', kill, { once: true });
        child.once('error', reject);
        child.once('close', (code) => {
          ctx?.signal?.removeEventListener('abort', kill);
          if (ctx?.signal?.aborted) return reject(new Error(`command cut off (timeout or shutdown)\n${out}`));
          if (code !== 0) return reject(new Error(`exit code ${code}\n${out}`));
          resolve(out);
        });
      }),
  } as BetaRunnableTool;
}
