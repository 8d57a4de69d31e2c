/** Who this stage's reconciler is, as what it creates is tagged and where it publishes. */
export interface ReconcileContext {
  /** `eks-hybrid-ops/<stage>`: the value of the managed-by tag on what this stage creates. */
  owner: string;
  /** SSM path under which each cluster's mount-target directory is published. */
  parameterPrefix: string;
}

/** The managed-by tag value of what this stage creates for one cluster. */
export const clusterOwner = (ctx: ReconcileContext, cluster: string) => `${ctx.owner}/${cluster}`;
