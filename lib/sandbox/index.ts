import type { Runtime } from '../runtime';
import type { Settings } from '../settings';
import { SandboxEstate } from './estate';
import { sandboxDns } from './dns';
import { sandboxKubeApi } from './kubernetes';
import { sandboxProber } from './prober';
import { SANDBOX_SERVICES } from './services';

export { SandboxEstate } from './estate';

/** Teaches an estate every service the project calls (lib/sandbox/services/index.ts lists them). */
export function withServices(estate: SandboxEstate): SandboxEstate {
  for (const service of SANDBOX_SERVICES) estate.register(service);
  return estate;
}

/** Opens (or seeds) the sandbox estate under `home`, with every service registered. */
export function openSandbox(home: string, options: { reset?: boolean; seedFile?: string } = {}): SandboxEstate {
  return withServices(SandboxEstate.open(home, options));
}

/** The runtime handlers get when they run on the sandbox: same lib code, sandbox underneath. */
export function sandboxRuntime(estate: SandboxEstate, settings: Settings): Runtime {
  // The simulated functions run in the (first) cluster's VPC, as the resolution check is deployed.
  const vpcId = estate.seed.clusters[0]?.vpcId ?? '';
  return {
    settings,
    clients: estate.clients(),
    clock: estate.clock,
    nodes: sandboxKubeApi(estate),
    dns: sandboxDns(estate, vpcId),
    prober: sandboxProber(estate),
  };
}
