import type { Config } from '../config';
import { SandboxError, type SandboxDriver } from './driver';
import { LocalDriver } from './local';

/** The driver named by BULKHEAD_SANDBOX. */
export function createDriver(config: Config): SandboxDriver {
  switch (config.BULKHEAD_SANDBOX) {
    case 'local':
      return new LocalDriver({ root: config.BULKHEAD_SANDBOX_ROOT });
    case 'openshell':
      // OPENSHELL BRANCH, filled by the openshell driver's author: add
      //   import { OpenShellDriver } from './openshell';
      // at the top and replace the throw with
      //   return new OpenShellDriver({ bin: process.env.OPENSHELL_BIN });
      throw new SandboxError('the openshell sandbox driver is not built into this version', 'DriverUnavailable', false);
  }
}
