/**
 * Tags this project puts on each activation; SSM copies them onto the managed instance that
 * registers with it. `EKSClusterARN` is the key AWS's hybrid nodes role policy scopes
 * `ssm:DeregisterManagedInstance` by; the others tie an instance back to its request.
 */
export const TAG_KEYS = {
  clusterArn: 'EKSClusterARN',
  requestId: 'hybridops:request-id',
  nodeName: 'hybridops:node-name',
  nodeIp: 'hybridops:node-ip',
  requester: 'hybridops:requester',
} as const;

/** SSM tag values: at most 256 characters of letters, digits, spaces and _ . : / = + - @. */
export function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '_').slice(0, 256);
}
