import { nightlySweep } from './nightly-sweep';
import { offboardNode } from './offboard-node';
import { onboardFleet } from './onboard-fleet';
import { onboardNode } from './onboard-node';
import { reconcileNetwork } from './reconcile-network';
import type { LocalWorkflow } from './types';
import { upgradeNodes } from './upgrade-nodes';

/** Every workflow the CLI runs, by name (its ASL file's, kebab-case). */
export const WORKFLOWS: Record<string, LocalWorkflow> = {
  [onboardNode.name]: onboardNode,
  [offboardNode.name]: offboardNode,
  [reconcileNetwork.name]: reconcileNetwork,
  [nightlySweep.name]: nightlySweep,
  [upgradeNodes.name]: upgradeNodes,
  [onboardFleet.name]: onboardFleet,
};
