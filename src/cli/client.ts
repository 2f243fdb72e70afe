import { Client, Connection } from '@temporalio/client';
import { InputError } from '../errors';
import { temporalSecurity } from '../stack/temporal-security';

export async function connectClient(address: string, namespace: string): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s', ...temporalSecurity() });
  } catch (e) {
    throw new InputError('TEMPORAL_ADDRESS', `cannot reach a Temporal frontend at ${address}: ${(e as Error).message}`);
  }
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

/** Requires TEMPORAL_ADDRESS for commands that talk to a running stack. */
export function requireAddress(address: string | undefined, command: string): string {
  if (!address) {
    throw new InputError('TEMPORAL_ADDRESS', `\`bulkhead ${command}\` talks to a running stack: start \`bulkhead dev\` and set TEMPORAL_ADDRESS=127.0.0.1:7233`);
  }
  return address;
}
