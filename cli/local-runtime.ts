import { ALL_CLIENT_CLASSES } from '#lib/aws/all-clients';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { awsRuntime } from '#functions/commons/runtime';
import type { Runtime } from '#lib/runtime';
import { openSandbox, sandboxRuntime } from '#lib/sandbox/index';
import { parseScenarioOption } from '#lib/sandbox/scenarios';
import type { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { sandboxTopicArn } from '#lib/sandbox/services/sns';
import { settingsFromEnv } from '#lib/settings';
import { loadServerlessConfig } from './serverless-config';

export type EstateName = 'sandbox' | 'aws';

export interface LocalRuntime {
  estateName: EstateName;
  runtime: Runtime;
  estate?: SandboxEstate;
  alertTopicArn: string;
  home: string;
}

/**
 * The runtime a local run uses. Settings come from serverless.yml's environment (the same
 * values a deployed function gets), for stage `sandbox` or `local`.
 * - sandbox: the estate under `home`, its region, its SNS topic.
 * - aws: the default credential chain, AWS_REGION (or serverless.yml's default region), and the
 *   alert topic named by HYBRIDOPS_ALERT_TOPIC_ARN.
 */
export function localRuntime(
  estateName: EstateName,
  home: string,
  env: NodeJS.ProcessEnv,
  options: { scenario?: string; functionKey?: string } = {},
): LocalRuntime {
  const stage = estateName === 'sandbox' ? 'sandbox' : 'local';
  const config = loadServerlessConfig(stage);
  const fn = config.functions[options.functionKey ?? 'preflight'];
  if (!fn) throw new Error(`serverless.yml has no function '${options.functionKey}'.`);
  if (estateName === 'sandbox') {
    const estate = openSandbox(home);
    if (options.scenario) {
      const choice = parseScenarioOption(options.scenario, Object.keys(estate.seed.scenarios));
      if ('problem' in choice) throw new UsageError(choice.problem);
      estate.state.scenario = choice.scenario;
      if (Object.keys(choice.servers).length) estate.state.serverScenarios = choice.servers;
      else delete estate.state.serverScenarios;
      estate.save();
    }
    return sandboxLocalRuntime(estate, home, fn.environment);
  }
  const alertTopicArn = env.HYBRIDOPS_ALERT_TOPIC_ARN;
  if (!alertTopicArn) {
    throw new UsageError(
      '--estate aws needs HYBRIDOPS_ALERT_TOPIC_ARN: the SNS topic to alert (the stack output AlertTopicArn).',
    );
  }
  const settings = settingsFromEnv({
    ...fn.environment,
    ...(env.HYBRIDOPS_CLUSTER_NAME ? { CLUSTER_NAME: env.HYBRIDOPS_CLUSTER_NAME } : {}),
    ...(env.HYBRIDOPS_STORE_BUCKET ? { STORE_BUCKET: env.HYBRIDOPS_STORE_BUCKET } : {}),
    AWS_REGION: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'ap-northeast-2',
    ALERT_TOPIC_ARN: alertTopicArn,
  });
  return { estateName, runtime: awsRuntime(settings, ALL_CLIENT_CLASSES, eksNodeAccess), alertTopicArn, home };
}

/**
 * The runtime of a local run on a given sandbox estate (one kept under `home`, or one in memory:
 * the chaos tier and the large tests, where writing the state after every call would dominate).
 */
export function sandboxLocalRuntime(
  estate: SandboxEstate,
  home: string,
  environment: Record<string, string> = loadServerlessConfig('sandbox').functions.preflight?.environment ?? {},
): LocalRuntime {
  const alertTopicArn = sandboxTopicArn(estate.seed.region, estate.seed.account);
  const settings = settingsFromEnv({
    ...environment,
    AWS_REGION: estate.seed.region,
    ALERT_TOPIC_ARN: alertTopicArn,
    // The sandbox's functions run in the cluster VPC, so DNS and the on-prem paths are checked
    // as they would be there.
    RESOLUTION_CHECKS: 'true',
    CONNECTIVITY_PROBES: 'true',
    STORE_BUCKET: sandboxStoreBucket(estate.seed.account),
  });
  return { estateName: 'sandbox', estate, runtime: sandboxRuntime(estate, settings), alertTopicArn, home };
}

/** A misused command or rejected input: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
