import type { Config } from '../config';
import type { SandboxDriver } from './driver';
import { LocalDriver } from './local';
import { OpenShellDriver } from './openshell';

/** The driver named by BULKHEAD_SANDBOX. */
export function createDriver(config: Config): SandboxDriver {
  switch (config.BULKHEAD_SANDBOX) {
    case 'local':
      return new LocalDriver({ root: config.BULKHEAD_SANDBOX_ROOT });
    case 'openshell':
      // The OpenShell driver reads its own settings (binary, workdir) from its options/environment.
      return new OpenShellDriver({});
  }
}
