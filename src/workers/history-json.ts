import { historyFromJSON as sdkHistoryFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { createRequire } from 'node:module';

/**
 * historyFromJSON that survives a split protobufjs install. With @grpc/proto-loader holding
 * protobufjs@7 at the top of node_modules, @temporalio/common and @temporalio/proto each get a
 * private protobufjs@8, and the SDK's converter rejects proto's types ("type must be a Type").
 * The fallback converts with proto's own protobufjs copy. It skips the SDK's normalisation of
 * old PascalCase enum names, which `temporal workflow show --output json` does not write.
 */
export function historyFromJSON(json: unknown): History {
  try {
    return sdkHistoryFromJSON(json);
  } catch (e) {
    if (!(e instanceof TypeError) || !/must be a Type/.test(e.message)) throw e;
  }
  const fromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const { fromJson } = fromProto('protobufjs/ext/protojson') as { fromJson: (t: unknown, v: unknown, o: unknown) => History | null };
  const { patchProtobufRoot } = fromProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot: (r: unknown) => { lookupType(n: string): unknown } };
  const type = patchProtobufRoot(fromProto('@temporalio/proto')).lookupType('temporal.api.history.v1.History');
  const loaded = fromJson(type, json, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('Invalid history');
  return loaded;
}
