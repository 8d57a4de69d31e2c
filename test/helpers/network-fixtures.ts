import type { ReconcileContext } from '#lib/network/context';
import { CLUSTER } from './onboarding-fixtures';

/** The reconciler's test estate: its stage, and the ids of the resources the tests plan and apply against. */
export const CTX: ReconcileContext = { owner: 'eks-hybrid-ops/test', parameterPrefix: '/eks-hybrid-ops/test' };
export const CLUSTER_OWNER = `eks-hybrid-ops/test/${CLUSTER}`;
export const OUTBOUND_ID = 'rslvr-out-0a1b2c3d4e5f60718';
export const OTHER_VPC = 'vpc-0ffeeffeeffeeffee';
export const FS_ID = 'fs-0a1b2c3d4e5f60718';
export const SG_ID = 'sg-0e5f0a1b2c3d40718';
export const SUBNET_B = 'subnet-0bb2b2b2b2b2b2b2b';
export const RULE_COMPANY = 'rslvr-rr-0c0c0c0c0c0c0c0c0';
export const RULE_OTHER_TEAM = 'rslvr-rr-0e0e0e0e0e0e0e0e0';

/**
 * A desired state whose one cluster declares an on-prem name to resolve (a forwarding rule and a
 * DNS check), for the checks that run only in the cluster VPC.
 */
export const dnsCheckDesiredState = () => ({
  version: 1,
  clusters: [
    {
      name: CLUSTER,
      dns: {
        outbound: {
          endpointId: OUTBOUND_ID,
          rules: [{ domain: 'company.local', targets: [{ ip: '192.168.1.53' }] }],
        },
        checks: { onPremName: 'harbor.company.local' },
      },
    },
  ],
});
