import type { Runtime } from '../runtime';
import type { Settings } from '../settings';
import { SandboxEstate } from './estate';
import { sandboxDns } from './dns';
import { sandboxNodeReader } from './on-prem';
import { sandboxProber } from './prober';
import { ceHandlers } from './services/ce';
import { ec2Handlers } from './services/ec2';
import { efsHandlers } from './services/efs';
import { resolverHandlers } from './services/route53resolver';
import { s3Handlers } from './services/s3';
import { eksHandlers } from './services/eks';
import { snsHandlers } from './services/sns';
import { ssmHandlers } from './services/ssm';

export { SandboxEstate } from './estate';

/** Teaches an estate every service the project calls. */
export function withServices(estate: SandboxEstate): SandboxEstate {
  estate.register('ssm', ssmHandlers);
  estate.register('eks', eksHandlers);
  estate.register('ec2', ec2Handlers);
  estate.register('sns', snsHandlers);
  estate.register('resolver', resolverHandlers);
  estate.register('efs', efsHandlers);
  estate.register('ce', ceHandlers);
  estate.register('s3', s3Handlers);
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
    nodes: sandboxNodeReader(estate),
    dns: sandboxDns(estate, vpcId),
    prober: sandboxProber(estate),
  };
}
