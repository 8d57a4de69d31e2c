import { awsRuntime } from '#functions/commons/runtime';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxRuntime, withServices } from '#lib/sandbox/index';
import { settings } from '../../helpers/onboarding-fixtures';

/**
 * What a handler's runtime hands lib functions as `nodes`: the whole Kubernetes API (reads and
 * the writes a cordon, drain and removal make), in Lambda and on the sandbox; nothing at all for
 * a handler that declared no node access.
 */

const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://127.0.0.1:1',
  certificateAuthority: '',
};
const KUBE_API = [
  'createPod',
  'deleteNode',
  'deletePod',
  'evictPod',
  'getNode',
  'getPod',
  'listHybridNodes',
  'listPodsOnNode',
  'readPodLog',
  'setUnschedulable',
];

describe('Runtime.nodes', () => {
  it('is the EKS Kubernetes API, writes included, for a handler with node access', () => {
    const api = awsRuntime(settings(), {}, eksNodeAccess).nodes(CLUSTER);
    expect(Object.keys(api).sort()).toEqual(KUBE_API);
  });

  it('is the sandbox Kubernetes API on the sandbox, whose writes change the estate', async () => {
    const estate = withServices(SandboxEstate.inMemory());
    const api = sandboxRuntime(estate, settings()).nodes(CLUSTER);

    await api.setUnschedulable('mi-0a2b4c6d8e0f12342', true);

    expect(estate.state.nodes['mi-0a2b4c6d8e0f12342']?.unschedulable).toBe(true);
  });

  it('refuses a handler that declared no node access', () => {
    expect(() => awsRuntime(settings(), {}).nodes(CLUSTER)).toThrow(/does not reach Kubernetes/);
  });
});
