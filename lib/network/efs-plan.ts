import type { ClusterDesiredState, EfsDesiredState } from '../desired-state/schema';
import { allowedNfsCidrs, type EfsObservation, NFS_PORT, type ObservedSgRule, reachesNfs } from '../efs/nfs';
import { emptyPlan, mergePlans, type Plan } from './plan';

/**
 * Plans the EFS side for one cluster: exactly one mount target per AZ of the cluster's subnets
 * (created only when the config allows it, never deleted), and a mount-target security group
 * that allows TCP 2049 from the allowed CIDRs exactly and nothing wider.
 */
export function efsPlan(input: { cluster: ClusterDesiredState; observed: EfsObservation }): Plan {
  const efs = input.cluster.efs;
  if (!efs) return emptyPlan();
  const target = { cluster: input.cluster.name, efs, observed: input.observed };
  return mergePlans(encryptionFindings(target), mountTargetChanges(target), nfsRuleChanges(target));
}

/** One cluster's declared file system and what AWS has of it. */
interface EfsTarget {
  cluster: string;
  efs: EfsDesiredState;
  observed: EfsObservation;
}

/** A file system not encrypted at rest: reported, since encryption is set at creation. */
function encryptionFindings({ cluster, observed }: EfsTarget): Plan {
  const plan = emptyPlan();
  const fs = observed.fileSystem;
  if (!fs.encrypted) {
    plan.findings.push({
      cluster,
      severity: 'warning',
      resource: fs.id,
      message: `EFS ${fs.id} is not encrypted at rest.`,
      fix: 'Encryption at rest is set at creation: create an encrypted file system (KMS) and move the data.',
    });
  }
  return plan;
}

/**
 * One mount target in each AZ of the cluster's subnets (of its own AZ for a One Zone file
 * system): a missing one is created when the config allows it, else reported; one in a subnet
 * that is not the cluster's, or in an AZ where the cluster has none, is left as it is.
 */
function mountTargetChanges({ cluster, efs, observed }: EfsTarget): Plan {
  const plan = emptyPlan();
  const fs = observed.fileSystem;
  const azs = [...new Set(observed.clusterSubnets.map((s) => s.availabilityZone))].sort();
  const wanted = fs.oneZone ? azs.filter((az) => az === fs.oneZone) : azs;
  if (fs.oneZone && wanted.length === 0) {
    plan.findings.push({
      cluster,
      severity: 'warning',
      resource: fs.id,
      message: `EFS ${fs.id} is One Zone in ${fs.oneZone}, where the cluster has no subnet: no mount target can serve it.`,
      fix: 'Use a Regional (Standard) file system, or add a cluster subnet in that AZ.',
    });
  }
  // A mount target on its way out does not count.
  const live = observed.mountTargets.filter((mt) => !['deleting', 'deleted'].includes(mt.lifeCycleState));
  for (const az of wanted) {
    if (live.some((mt) => mt.availabilityZone === az)) continue;
    const subnet = observed.clusterSubnets
      .filter((s) => s.availabilityZone === az)
      .map((s) => s.id)
      .sort()[0];
    if (!subnet) continue;
    if (efs.createMissingMountTargets) {
      plan.actions.push({
        type: 'create-mount-target',
        resource: `${fs.id}@${az}`,
        cluster,
        detail: `no mount target in ${az}: create one in ${subnet}`,
        params: { fileSystemId: fs.id, subnetId: subnet, securityGroupId: efs.securityGroupId, availabilityZone: az },
      });
    } else {
      plan.findings.push({
        cluster,
        severity: 'warning',
        resource: `${fs.id}@${az}`,
        message: `EFS ${fs.id} has no mount target in ${az}, where the cluster has subnet ${subnet}.`,
        fix: `Set createMissingMountTargets: true for ${cluster}, or create one in ${subnet} with ${efs.securityGroupId}.`,
      });
    }
  }
  const clusterSubnets = new Set(observed.clusterSubnets.map((x) => x.id));
  for (const mt of live.filter((m) => azs.includes(m.availabilityZone) && !clusterSubnets.has(m.subnetId))) {
    plan.conflicts.push({
      cluster,
      resource: mt.id,
      message: `Mount target ${mt.id} in ${mt.availabilityZone} is in subnet ${mt.subnetId}, which is not a cluster subnet; it was left as it is.`,
      fix: 'Replace it by hand with one in a cluster subnet of that AZ (one mount target per AZ).',
    });
  }
  for (const mt of observed.mountTargets.filter((m) => !azs.includes(m.availabilityZone))) {
    plan.conflicts.push({
      cluster,
      resource: mt.id,
      message: `Mount target ${mt.id} is in ${mt.availabilityZone}, where the cluster has no subnet; it was left as it is.`,
      fix: 'This reconciler never deletes mount targets: delete it by hand if nothing uses it.',
    });
  }
  return plan;
}

/**
 * The mount-target security group's NFS rules: TCP 2049 from each allowed CIDR exactly, nothing
 * wider. What is missing is allowed before what is too wide is revoked, so access is never cut
 * in between.
 */
function nfsRuleChanges({ cluster, efs, observed }: EfsTarget): Plan {
  const plan = emptyPlan();
  const allowed = allowedNfsCidrs(efs, observed);
  const exact = (r: ObservedSgRule) =>
    (r.protocol === 'tcp' || r.protocol === '6') && r.fromPort === NFS_PORT && r.toPort === NFS_PORT;
  const nfsRules = observed.securityGroupRules.filter((r) => reachesNfs(r) && r.cidr);
  for (const cidr of allowed.filter((c) => !nfsRules.some((r) => r.cidr === c && exact(r)))) {
    plan.actions.push({
      type: 'authorize-nfs',
      resource: `${efs.securityGroupId}/${cidr}`,
      cluster,
      detail: `${cidr} cannot reach NFS on the mount targets: allow TCP 2049 from it`,
      params: { groupId: efs.securityGroupId, cidr },
    });
  }
  for (const rule of nfsRules) {
    if (rule.cidr && allowed.includes(rule.cidr) && exact(rule)) continue;
    const why = rule.cidr && allowed.includes(rule.cidr) ? 'opens more ports than 2049' : 'is not an allowed source';
    plan.actions.push({
      type: 'revoke-nfs',
      resource: `${efs.securityGroupId}/${rule.id}`,
      cluster,
      detail: `${rule.id} lets ${rule.cidr} reach NFS but ${why} (allowed: ${allowed.join(', ')}): revoke it`,
      params: { groupId: efs.securityGroupId, ruleId: rule.id, cidr: rule.cidr ?? '' },
    });
  }
  return plan;
}
