import * as z from 'zod';
import type { ClusterAccess } from './types';

/**
 * A {@link ClusterAccess} as a step's input carries it: what a Kubernetes client needs to reach
 * the cluster (its name signs the EKS token; endpoint and CA come from DescribeCluster).
 */
export const ClusterAccessSchema = z.object({
  name: z.string(),
  region: z.string(),
  endpoint: z.string(),
  certificateAuthority: z.string(),
}) satisfies z.ZodType<ClusterAccess>;
