import { nodeadmCommands } from '../onboarding/node-config';
import type { SandboxEstate } from './estate';
import { podsOnNode } from './kubernetes';
import { configFile, type NodeadmCall, nodeadmCalls } from './nodeadm-cli';
import { scenarioFor, scenariosInForce } from './scenarios';
import type { EstateSeed, Scenario } from './seed';
import type { HostInstall, HostRun, SandboxHost, SandboxInvocation, SandboxNode } from './state';

/**
 * The machines behind the managed instances. Each has nodeadm's components (or no longer), a
 * kubelet at a version, the NodeConfig file where `nodeadm init` read it, and an SSM agent that
 * picks Run Command commands up. A command runs `nodeadm uninstall` or `nodeadm upgrade` on the
 * host's own timeline in sandbox time, doing what nodeadm does (its source, aws/eks-hybrid v1.0.20,
 * at the paths named below): checks first, then the work, then its effects on the host,
 * its managed instance and, as the control plane sees it, its Node. Looking only observes.
 */

/**
 * How long the node lifecycle controller waits for a silent kubelet before it marks the Node
 * Unknown: 40 s, and 50 s from Kubernetes 1.32 (kubernetes/kubernetes#126287).
 */
export function nodeMonitorGraceSeconds(clusterVersion: string | undefined): number {
  const minor = Number(/^1\.(\d+)/.exec(clusterVersion ?? '')?.[1] ?? 0);
  return minor >= 32 ? 50 : 40;
}

const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();
const due = (iso: string | undefined, now: Date) => iso !== undefined && Date.parse(iso) <= now.getTime();

/** What the onboarding instructions install and where their `nodeadm init -c` leaves the NodeConfig. */
export function installOf(commands: readonly string[], fallbackVersion: string): HostInstall {
  const calls = nodeadmCalls(commands);
  const version = calls.find((c) => c.subcommand === 'install')?.positionals[0] ?? fallbackVersion;
  const uri = calls.find((c) => c.subcommand === 'init')?.values['config-source'] ?? '';
  const file = configFile(uri);
  // A relative path is relative to the shell the team ran init in, which no Run Command shell is
  // (AWS-RunShellScript runs in its own orchestration directory): no upgrade can name it.
  return { kubernetesVersion: minorOf(version) ?? version, nodeConfigPath: file?.startsWith('/') ? file : undefined };
}

const minorOf = (version: string) => /^v?(1\.\d+)/.exec(version)?.[1];

/** The kubelet version `minor` installs (the seed's release manifest), or undefined if there is none. */
export function kubeletVersion(seed: EstateSeed, minor: string): string | undefined {
  return seed.onPrem.releases[minor];
}

type FleetEntry = Pick<
  EstateSeed['fleet'][number],
  'name' | 'instanceId' | 'cluster' | 'kubernetesVersion' | 'notReadyForHours' | 'nodeConfigPath'
>;

/** The host of a server that joined before the sandbox started (the seed's fleet). */
export function fleetHost(seed: EstateSeed, f: FleetEntry, joinedAt: string): SandboxHost {
  const clusterVersion = seed.clusters.find((c) => c.name === f.cluster)?.version ?? '1.33';
  const minor = f.kubernetesVersion ?? clusterVersion;
  const install = installOf(nodeadmCommands(minor), minor);
  const stopped = f.notReadyForHours !== undefined;
  return {
    instanceId: f.instanceId,
    name: f.name,
    cluster: f.cluster,
    nodeadm: true,
    kubelet: { version: kubeletVersion(seed, minor) ?? `v${minor}.0`, running: !stopped, since: joinedAt },
    nodeConfigPath: f.nodeConfigPath ?? install.nodeConfigPath,
    nodeChanges: [],
  };
}

/** The host of a server that has just registered, as its onboarding instructions installed it. */
export function joinedHost(
  estate: SandboxEstate,
  server: { nodeName: string; cluster: string; install?: HostInstall },
  instanceId: string,
  at: string,
): SandboxHost {
  const install = server.install ?? {
    kubernetesVersion: estate.seed.clusters.find((c) => c.name === server.cluster)?.version ?? '1.33',
  };
  const minor = install.kubernetesVersion;
  return {
    instanceId,
    name: server.nodeName,
    cluster: server.cluster,
    nodeadm: true,
    kubelet: { version: kubeletVersion(estate.seed, minor) ?? `v${minor}.0`, running: true, since: at },
    nodeConfigPath: install.nodeConfigPath,
    nodeChanges: [],
  };
}

/**
 * The host behind an instance. An instance the seed's fleet and the sandbox's joins did not make
 * (a test's own) gets a host as the fleet's are: nodeadm installed at its Node's version.
 */
export function hostOf(estate: SandboxEstate, instanceId: string): SandboxHost | undefined {
  const existing = estate.state.hosts[instanceId];
  if (existing) return existing;
  const instance = estate.state.instances[instanceId];
  if (!instance) return undefined;
  const node = estate.state.nodes[instanceId];
  const cluster = node?.cluster ?? estate.seed.clusters[0]?.name ?? '';
  const entry = {
    name: instance.name ?? instanceId,
    instanceId,
    cluster,
    kubernetesVersion: minorOf(node?.kubeletVersion ?? ''),
  };
  const host = fleetHost(estate.seed, entry, instance.registrationDate);
  estate.state.hosts[instanceId] = host;
  return host;
}

/** The one nodeadm uninstall or upgrade a Run Command script runs, if any. */
export function lifecycleCall(script: readonly string[]): NodeadmCall | undefined {
  return nodeadmCalls(script).find((c) => c.subcommand === 'uninstall' || c.subcommand === 'upgrade');
}

/** The estates whose hosts are being moved now (see {@link advanceHosts}). */
const advancing = new WeakSet<SandboxEstate>();

/**
 * Moves every host, and every command sent to one, forward to the sandbox clock's now. A host that
 * starts nodeadm meanwhile looks at the pods on its Node, which moves the cluster (and so the
 * on-prem side) to now first: that inner call finds the hosts already on their way and returns.
 */
export function advanceHosts(estate: SandboxEstate): void {
  if (advancing.has(estate)) return;
  advancing.add(estate);
  try {
    moveHosts(estate);
  } finally {
    advancing.delete(estate);
  }
}

function moveHosts(estate: SandboxEstate): void {
  const now = estate.clock.now();
  takeDown(estate, now);
  const commands = Object.values(estate.state.commands ?? {}).sort((a, b) => a.sequence - b.sequence);
  for (const command of commands) {
    for (const invocation of Object.values(command.invocations)) {
      // The scenario in force when the command was sent, unless the host follows its own.
      const host = estate.state.hosts?.[invocation.instanceId]?.name ?? '';
      const scenario = scenarioOf(estate, scenarioFor(estate, host, command.scenario));
      advanceInvocation(estate, command, invocation, scenario, now);
    }
  }
  for (const host of Object.values(estate.state.hosts ?? {})) applyNodeChanges(estate, host, now);
}

function scenarioOf(estate: SandboxEstate, name: string): Scenario {
  const scenario = estate.seed.scenarios[name] ?? estate.seed.scenarios.joins;
  if (!scenario) throw new Error(`The sandbox seed has no scenario '${name}' and no 'joins' scenario.`);
  return scenario;
}

/**
 * The servers the run's scenario says are down go down, and stay down. Only those that had joined
 * when the scenario was first seen: a server that joins later is up (it could not have joined otherwise).
 */
function takeDown(estate: SandboxEstate, now: Date): void {
  const hosts = Object.values(estate.state.hosts ?? {});
  const scenarioOfHost = (name: string) => estate.seed.scenarios[scenarioFor(estate, name)];
  const named = [estate.state.scenario, ...Object.values(estate.state.serverScenarios ?? {})];
  if (!named.some((n) => estate.seed.scenarios[n]?.offlineHosts.length)) return;
  const inForce = scenariosInForce(estate);
  if (estate.state.offlineFrom?.scenario !== inForce) {
    estate.state.offlineFrom = { scenario: inForce, at: now.toISOString() };
  }
  const cutoff = estate.state.offlineFrom.at;
  for (const host of hosts) {
    const instance = estate.state.instances[host.instanceId];
    const scenario = scenarioOfHost(host.name);
    if (!scenario?.offlineHosts.includes(host.name) || host.downSince || !instance) continue;
    if (instance.registrationDate > cutoff) continue;
    const wentDown = Math.max(now.getTime() - scenario.offlineForSeconds * 1000, Date.parse(instance.registrationDate));
    host.downSince = new Date(wentDown).toISOString();
    instance.pingStatus = 'ConnectionLost';
    instance.lastPingAt = host.downSince;
    stopKubelet(estate, host, host.downSince);
  }
}

/** The kubelet stops posting status: the node lifecycle controller marks the Node Unknown after its grace period. */
function stopKubelet(estate: SandboxEstate, host: SandboxHost, at: string): void {
  if (host.kubelet?.running) host.kubelet = { ...host.kubelet, running: false, since: at };
  const cluster = estate.seed.clusters.find((c) => c.name === host.cluster);
  host.nodeChanges.push({
    at: plus(at, nodeMonitorGraceSeconds(cluster?.version)),
    ready: { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' },
  });
}

function applyNodeChanges(estate: SandboxEstate, host: SandboxHost, now: Date): void {
  const ready = host.nodeChanges.filter((c) => due(c.at, now)).sort((a, b) => a.at.localeCompare(b.at));
  host.nodeChanges = host.nodeChanges.filter((c) => !ready.includes(c));
  for (const change of ready) {
    const node = estate.state.nodes[host.instanceId];
    if (!node) continue; // deleted meanwhile: nothing left to change
    if (change.ready) node.ready = { ...change.ready, since: change.at };
    if (change.kubeletVersion) node.kubeletVersion = change.kubeletVersion;
  }
}

/**
 * One invocation's life (SSM user guide, "Understanding command statuses"): Pending until the
 * host's agent has it; InProgress while the script runs; then Success (exit 0) or Failed (any
 * other code), or TimedOut: "Execution Timed Out" past the document's executionTimeout, and
 * "Delivery Timed Out" when it was never delivered before the command expired (ExpiresAfter).
 */
function advanceInvocation(
  estate: SandboxEstate,
  command: {
    requestedAt: string;
    expiresAt: string;
    executionTimeoutSeconds: number;
    parameters: Record<string, string[]>;
  },
  invocation: SandboxInvocation,
  scenario: Scenario,
  now: Date,
): void {
  if (!invocation.startedAt) {
    const pickup = plus(command.requestedAt, scenario.commandPickupSeconds);
    const host = estate.state.hosts?.[invocation.instanceId];
    const reachable = host && !(host.downSince && host.downSince <= pickup) && estate.state.instances[host.instanceId];
    if (!reachable || !due(pickup, now)) {
      if (due(command.expiresAt, now)) {
        Object.assign(invocation, {
          status: 'TimedOut',
          statusDetails: 'Delivery Timed Out',
          endedAt: command.expiresAt,
        });
      }
      return;
    }
    invocation.startedAt = pickup;
    invocation.status = 'InProgress';
    invocation.statusDetails = 'In Progress';
    const call = lifecycleCall(command.parameters.commands ?? []);
    if (call) invocation.run = startRun(estate, host, call, scenario, pickup);
    invocation.endsAt = invocation.run && !invocation.run.detached ? invocation.run.endsAt : plus(pickup, 1);
  }
  const run = invocation.run;
  const killAt = plus(invocation.startedAt, command.executionTimeoutSeconds);
  if (invocation.status === 'InProgress' && due(killAt, now) && killAt < (invocation.endsAt ?? killAt)) {
    // The agent stops the script at the execution timeout; nodeadm dies with it, its work half done.
    if (run && !run.detached) run.settled = true;
    finish(invocation, 'TimedOut', 'Execution Timed Out', -1, killAt);
  }
  if (run && !run.settled && due(run.endsAt, now)) settle(estate, invocation.instanceId, run);
  if (invocation.status === 'InProgress' && due(invocation.endsAt, now)) {
    const exit = run && !run.detached ? run.exitCode : 0;
    finish(invocation, exit === 0 ? 'Success' : 'Failed', exit === 0 ? 'Success' : 'Failed', exit, invocation.endsAt!);
  }
}

/** Ends the invocation, with what the script wrote until then. */
function finish(
  invocation: SandboxInvocation,
  status: SandboxInvocation['status'],
  details: string,
  code: number,
  at: string,
): void {
  const run = invocation.run;
  const seconds = (Date.parse(at) - Date.parse(invocation.startedAt ?? at)) / 1000;
  const written = run
    ? run.log
        .filter((l) => l.at <= seconds)
        .map((l) => `${l.line}\n`)
        .join('')
    : '';
  Object.assign(invocation, {
    status,
    statusDetails: details,
    responseCode: code,
    endedAt: at,
    stdout: run && !run.detached && run.logsTo === 'stdout' ? written : '',
    stderr: run && !run.detached && run.logsTo === 'stderr' ? written : '',
  });
}

/** nodeadm's log line, as its zap production logger writes it (JSON, ISO 8601 time; aws/eks-hybrid internal/cli/logger.go). */
function logLine(level: string, at: string, msg: string, fields: Record<string, string> = {}): string {
  return JSON.stringify({ level, ts: at, msg, ...fields });
}

interface Plan {
  exitCode: number;
  seconds: number;
  lines: Array<[level: string, msg: string, fields?: Record<string, string>]>;
  stopsKubelet?: boolean;
  outcome?: HostRun['outcome'];
}

/** The host starts nodeadm: what it will write, how long it takes, how it ends (decided now, from the host as it is). */
function startRun(
  estate: SandboxEstate,
  host: SandboxHost,
  call: NodeadmCall,
  scenario: Scenario,
  at: string,
): HostRun {
  const plan =
    call.subcommand === 'uninstall'
      ? uninstallPlan(estate, host, call, scenario)
      : upgradePlan(estate, host, call, scenario);
  const seconds = plan.seconds;
  const step = seconds / Math.max(plan.lines.length, 1);
  const run: HostRun = {
    subcommand: call.subcommand as HostRun['subcommand'],
    detached: call.detached,
    startedAt: at,
    endsAt: plus(at, seconds),
    exitCode: plan.exitCode,
    logsTo: call.logsTo,
    log: plan.lines.map(([level, msg, fields], n) => {
      const offset = Math.round(Math.min(n * step, seconds) * 1000) / 1000;
      return { at: offset, line: logLine(level, plus(at, offset), msg, fields) };
    }),
    stopsKubelet: plan.stopsKubelet === true,
    outcome: plan.outcome ?? 'unchanged',
    settled: false,
  };
  if (run.stopsKubelet) stopKubelet(estate, host, at);
  return run;
}

const fatal = (error: string): Plan['lines'][number] => ['fatal', 'Command failed', { error }];

const UNDRAINED =
  'only static pods and pods controlled by daemon-sets can be running on the node. Please move pods to different node or use --skip pod-validation';

/**
 * nodeadm's pod validation (aws/eks-hybrid internal/node/pods.go): the pods bound to the Node, as
 * the kubelet's own credentials list them, less those a DaemonSet controls and the static ones
 * (named in /etc/kubernetes/manifest: here, the mirror pods). Finished and terminating pods count.
 */
function drained(estate: SandboxEstate, host: SandboxHost): boolean {
  return podsOnNode(estate, host.cluster, host.instanceId).every((p) => p.controller?.kind === 'DaemonSet' || p.mirror);
}
const CONTAINERD = { 'containerd source': 'distro' };

/**
 * `nodeadm uninstall` (aws/eks-hybrid cmd/nodeadm/uninstall/uninstall.go, internal/flows/uninstall.go).
 * It stops and removes the very SSM agent a Run Command script runs under, and deregisters the
 * instance; the sandbox still reports the script's exit, as the workflows expect. AWS may never get
 * that report: "If Run Command doesn't receive a document terminal response from SSM Agent, the
 * command invocation is marked as deliveryTimeout" (SSM user guide, "Understanding command timeout
 * values"). A script that must not depend on it starts nodeadm in the background, which the hosts
 * here simulate too.
 */
function uninstallPlan(estate: SandboxEstate, host: SandboxHost, call: NodeadmCall, scenario: Scenario): Plan {
  const lines: Plan['lines'] = [['info', 'Loading installed components']];
  if (call.unknown.length) return usage(call);
  if (!host.nodeadm) {
    // The tracker is gone: nothing to do, and exit 0 (uninstall is idempotent).
    return { exitCode: 0, seconds: 1, lines: [...lines, ['info', 'Nodeadm components are already uninstalled']] };
  }
  lines.push(['info', 'Creating daemon manager...']);
  const skip = call.lists.skip ?? [];
  if (host.kubelet?.running) {
    if (!skip.includes('pod-validation')) {
      lines.push(['info', 'Validating if node has been drained...']);
      if (scenario.uninstallFails || !drained(estate, host))
        return { exitCode: 1, seconds: 3, lines: [...lines, fatal(UNDRAINED)] };
    }
    const node = nodeOf(estate, host);
    // A Node that is gone passes: IsUnscheduled returns nil on NotFound (internal/node/validations.go).
    if (!skip.includes('node-validation')) {
      lines.push(['info', 'Validating if node has been marked unschedulable...']);
      if (node && !node.unschedulable) {
        const error =
          'please drain or cordon node to mark it unschedulable or use --skip node-validation: node is schedulable';
        return { exitCode: 1, seconds: 3, lines: [...lines, fatal(error)] };
      }
    }
  }
  lines.push(
    ['info', 'Creating package manager...'],
    ['info', 'Configuring package manager with', CONTAINERD],
    ['info', 'Uninstalling kubelet...'],
    ['info', 'Stopping SSM daemon...'],
  );
  if (scenario.uninstallFails) {
    // Its SSM API calls fail (12 attempts, then the error): the kubelet is already gone and the
    // agent stopped, the instance still registered (the order of internal/flows/uninstall.go).
    const region = estate.seed.region;
    const error = `uninstalling SSM: getting managed instance information: operation error SSM: DescribeInstanceInformation, exceeded maximum attempts, 12, https response error StatusCode: 0, RequestID: , request send failed, Post "https://ssm.${region}.amazonaws.com/": dial tcp: lookup ssm.${region}.amazonaws.com: i/o timeout`;
    return {
      exitCode: 1,
      seconds: scenario.uninstallSeconds,
      lines: [...lines, ['info', 'Uninstalling SSM agent...'], fatal(error)],
      stopsKubelet: true,
      outcome: 'ssm-uninstall-failed',
    };
  }
  lines.push(
    ['info', 'Uninstalling SSM agent...'],
    ['info', 'Uninstalling containerd...'],
    ['info', 'Uninstalling kubectl...'],
    ['info', 'Uninstalling cni-plugins...'],
    ['info', 'Uninstalling IAM authenticator...'],
    ['info', 'Uninstalling image credential provider...'],
    ['info', 'Uninstalling iptables...'],
    ['info', 'Finished uninstallation tasks...'],
  );
  return { exitCode: 0, seconds: scenario.uninstallSeconds, lines, stopsKubelet: true, outcome: 'uninstalled' };
}

/** `nodeadm upgrade` (aws/eks-hybrid cmd/nodeadm/upgrade/upgrade.go, internal/flows/upgrade.go). */
function upgradePlan(estate: SandboxEstate, host: SandboxHost, call: NodeadmCall, scenario: Scenario): Plan {
  if (call.unknown.length) return usage(call);
  const source = call.values['config-source'];
  if (!source) {
    // flaggy.ShowHelpAndExit: the help, then exit 2.
    const help =
      '--config-source is a required flag. The format is a URI with supported schemes: [file, imds]. For example on hybrid nodes --config-source file://nodeConfig.yaml';
    return { exitCode: 2, seconds: 1, lines: [['error', help]] };
  }
  const lines: Plan['lines'] = [['info', 'Loading installed components']];
  const fail = (error: string, seconds = 3): Plan => ({ exitCode: 1, seconds, lines: [...lines, fatal(error)] });
  if (!host.nodeadm) {
    // No tracker: nodeadm says so and exits 0, having done nothing.
    const msg =
      'No nodeadm components installed. Please use nodeadm install and nodeadm init commands to bootstrap a node';
    return { exitCode: 0, seconds: 1, lines: [...lines, ['info', msg]] };
  }
  const skip = call.lists.skip ?? [];
  const node = nodeOf(estate, host);
  if (!skip.includes('init-validation')) {
    lines.push(['info', 'Validating if node has initialized']);
    if (!node) {
      return fail(
        `node not initialized. Please use nodeadm init command to bootstrap a node. err: nodes "${host.instanceId}" not found`,
      );
    }
  }
  lines.push(['info', 'Loading configuration...', { configSource: source }]);
  const file = configFile(source);
  if (file === undefined) return fail(`unsupported scheme: ${source.split(':')[0]}`);
  if (file !== host.nodeConfigPath) return fail(`open ${file}: no such file or directory`);
  const version = call.positionals[0] ?? '';
  lines.push(['info', 'Validating Kubernetes version', { 'kubernetes version': version }]);
  const target = !version
    ? { error: 'eks version is empty' }
    : !/^\d+\.\d+(\.\d+)?$/.test(version)
      ? { error: `invalid semantic version: ${version}` }
      : resolveRelease(estate.seed, version);
  if ('error' in target) return fail(`getting latest eks release: ${target.error}`);
  lines.push(['info', 'Using Kubernetes version', { 'kubernetes version': target.kubelet.replace(/^v/, '') }]);
  lines.push(['info', 'Creating daemon manager...']);
  if (host.kubelet?.running) {
    if (!skip.includes('pod-validation')) {
      lines.push(['info', 'Validating if node has been drained...']);
      if (!drained(estate, host)) return fail(UNDRAINED);
    }
    if (!skip.includes('node-validation')) {
      lines.push(['info', 'Validating if node has been marked unschedulable...']);
      if (node && !node.unschedulable) {
        return fail(
          'please drain or cordon node to mark it unschedulable or use --skip node-validation: node is schedulable',
        );
      }
    }
  }
  lines.push(
    ['info', 'Creating package manager...'],
    ['info', 'Configuring package manager with', CONTAINERD],
    ['info', 'Refreshing package manager metadata cache...'],
    ['info', 'Upgrading containerd...'],
    ['info', 'Upgrading iptables...'],
    ['info', 'Upgrading SSM agent installer...'],
  );
  if (scenario.upgradeFails) {
    // The failure AWS documents for nodeadm older than 1.0.19 (EKS user guide, hybrid nodes upgrade).
    const why = 'Signature Verification Error: No matching signature';
    for (let n = 0; n < 3; n += 1) {
      lines.push([
        'error',
        'Downloading ssm-setup-cli failed. Retrying...',
        { error: `validating ssm-setup-cli signature: ${why}` },
      ]);
    }
    return fail(
      `failed to install ssm installer: validating ssm-setup-cli signature: ${why}`,
      Math.ceil(scenario.upgradeSeconds / 3),
    );
  }
  lines.push(
    ['info', 'Upgraded', { artifact: 'ssm-setup-cli' }],
    ['info', 'Upgrading kubelet...'],
    ['info', 'Upgrading kubectl...'],
    ['info', 'Upgrading image credential provider...'],
    ['info', 'Upgrading IAM authenticator...'],
    ['info', 'Upgrading cni-plugins...'],
    ['info', 'Restarting SSM agent...'],
    ['info', 'Waiting for SSM agent to be running...'],
    ['info', 'Configuring daemons...'],
    ['info', 'Ensuring daemon is running...', { name: 'kubelet' }],
    ['info', 'Daemon is running', { name: 'kubelet' }],
    ['info', 'Finished post-launch tasks', { name: 'kubelet' }],
  );
  const outcome = { upgradedTo: target.kubelet, readyAfterSeconds: scenario.upgradeReadySeconds };
  return { exitCode: 0, seconds: scenario.upgradeSeconds, lines, outcome };
}

/** The release `version` (major.minor or major.minor.patch) resolves to in the manifest (internal/aws/source.go). */
function resolveRelease(seed: EstateSeed, version: string): { kubelet: string } | { error: string } {
  const [major, minor, patch] = version.split('.');
  const kubelet = kubeletVersion(seed, `${major}.${minor}`);
  if (kubelet && (patch === undefined || kubelet.startsWith(`v${version}-`))) return { kubelet };
  return {
    error:
      patch === undefined
        ? 'input semver did not match with any available releases'
        : 'input semver did not match with available releases. Try again with major.minor version',
  };
}

/** A flag nodeadm does not know: flaggy shows the help and exits 2 (ShowHelpOnUnexpected, cmd/nodeadm/main.go). */
function usage(call: NodeadmCall): Plan {
  return { exitCode: 2, seconds: 1, lines: [['error', `Unknown arguments supplied: ${call.unknown.join(' ')}`]] };
}

function nodeOf(estate: SandboxEstate, host: SandboxHost): SandboxNode | undefined {
  const node = estate.state.nodes[host.instanceId];
  return node && node.cluster === host.cluster ? node : undefined;
}

/** nodeadm has exited: the host is what it left, and the control plane sees it in time. */
function settle(estate: SandboxEstate, instanceId: string, run: HostRun): void {
  run.settled = true;
  const host = estate.state.hosts[instanceId];
  if (!host) return;
  const outcome = run.outcome;
  if (outcome === 'uninstalled') {
    host.nodeadm = false;
    host.kubelet = undefined;
    // nodeadm deregisters the instance itself when SSM still lists it (internal/ssm/registration.go).
    const instance = estate.state.instances[instanceId];
    if (instance) {
      estate.deregistered.push({ instanceId, tags: instance.tags, by: 'nodeadm' });
      delete estate.state.instances[instanceId];
    }
  } else if (outcome === 'ssm-uninstall-failed') {
    // The agent is stopped: SSM loses it.
    const instance = estate.state.instances[instanceId];
    if (instance) {
      instance.pingStatus = 'ConnectionLost';
      instance.lastPingAt = run.startedAt;
    }
  } else if (typeof outcome === 'object') {
    // The kubelet restarts at the new version: NotReady while it starts, then Ready.
    host.kubelet = { version: outcome.upgradedTo, running: true, since: run.endsAt };
    host.nodeChanges = host.nodeChanges.filter((c) => !c.ready || c.at < run.endsAt);
    host.nodeChanges.push(
      {
        at: run.endsAt,
        kubeletVersion: outcome.upgradedTo,
        ready: {
          status: 'False',
          reason: 'KubeletNotReady',
          message: 'container runtime status check may not have completed yet',
        },
      },
      {
        at: plus(run.endsAt, outcome.readyAfterSeconds),
        ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      },
    );
  }
}
