import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { UsageError } from '../local-runtime';
import { type Credentials, regionOfApiUrl } from './signed-fetch';

export interface ApiLocation {
  /** The stage's base URL, no trailing slash: `https://{id}.execute-api.{region}.amazonaws.com/{stage}`. */
  base: string;
  /** The region requests are signed for. */
  region: string;
}

/** What finding the API from the deployed stack needs: the signer's credentials, and who they are (for a refusal). */
export interface LookupDeps {
  credentials: Credentials;
  /** The identity the credentials are (an ARN, else the access key), as a refusal names it. */
  identity: (region: string) => Promise<string>;
}

/** The stack's output that holds the API's URL, as osls names it (lib/plugins/aws/package/compile/events/api-gateway/lib/deployment.js). */
export const ENDPOINT_OUTPUT = 'ServiceEndpoint';

/**
 * The stack `serverless deploy --stage <stage>` makes: `<service>-<stage>`, with serverless.yml's
 * `service: eks-hybrid-ops` and no `provider.stackName` (osls lib/plugins/aws/lib/naming.js, getStackName).
 */
export const stackName = (stage: string) => `eks-hybrid-ops-${stage}`;

/** The lookup could not be made (access denied, a stack without the output): exit 1, as a refused call. */
export class ApiLookupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiLookupError';
  }
}

/**
 * Where the API is: `--api`, else `HYBRIDOPS_API`, else the `ServiceEndpoint` output of the
 * deployed stack of `--stage` (CloudFormation DescribeStacks, in `--region`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION` or the profile's region). The region requests are signed for is the URL's
 * own (execute-api hosts name it), else the region given.
 */
export async function apiLocation(
  values: { api?: string; region?: string; stage?: string },
  env: NodeJS.ProcessEnv,
  deps: LookupDeps,
): Promise<ApiLocation> {
  const given = values.api ?? env.HYBRIDOPS_API;
  if (given) return fromUrl(given, values, env);
  if (!values.stage) {
    throw new UsageError(
      'which API? Pass --api <url>, set HYBRIDOPS_API, or give --stage <stage> (and --region) to read the URL from the deployed stack',
    );
  }
  const url = await stackEndpoint(values.stage, values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION, deps);
  return fromUrl(url, { region: regionOfApiUrl(url) ?? values.region }, env);
}

function fromUrl(given: string, values: { region?: string }, env: NodeJS.ProcessEnv): ApiLocation {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(
      `--api must be a URL such as https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev, not '${given}'`,
    );
  }
  if (url.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new UsageError(`--api must be https (plain http only for localhost), not '${given}'`);
  }
  const fromHost = regionOfApiUrl(url.href);
  if (fromHost && values.region && values.region !== fromHost) {
    throw new UsageError(`--region ${values.region} does not match the API's region ${fromHost} (${url.host})`);
  }
  const region = fromHost ?? values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError(`--region is needed to sign requests for ${url.host}`);
  return { base: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, region };
}

/**
 * The `ServiceEndpoint` output of stack `eks-hybrid-ops-<stage>`. DescribeStacks answers a stack
 * that does not exist with the generic `ValidationError` ("Stack with id <name> does not exist"),
 * not the modelled StackNotFoundException (DescribeStacksCommand: "If the stack doesn't exist, a
 * ValidationError is returned"; https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html),
 * and a refused call with `AccessDenied` (the Query protocol's code).
 */
async function stackEndpoint(stage: string, region: string | undefined, deps: LookupDeps): Promise<string> {
  const name = stackName(stage);
  // No region given: the SDK takes the profile's (AWS_PROFILE's `region` in ~/.aws/config).
  const client = new CloudFormationClient({ ...(region ? { region } : {}), credentials: deps.credentials });
  let resolved: string;
  try {
    resolved = await client.config.region();
  } catch {
    throw new UsageError(`--region is needed to find stack ${name} (or set AWS_REGION, or a region in the profile)`);
  }
  const where = `stack ${name} in ${resolved}`;
  let answer: DescribeStacksCommandOutput;
  try {
    answer = await client.send(new DescribeStacksCommand({ StackName: name }));
  } catch (error) {
    const e = error as Error;
    if (e.name === 'ValidationError' && /does not exist/.test(e.message)) {
      throw new UsageError(
        `no ${where}: is stage '${stage}' deployed there? (CloudFormation: ${e.message}) Pass --api <url> if the API is elsewhere.`,
      );
    }
    if (/^AccessDenied/.test(e.name) || /not authorized to perform/.test(e.message)) {
      const identity = await deps.identity(resolved);
      throw new ApiLookupError(
        `cannot read ${where}: ${identity} lacks cloudformation:DescribeStacks on it; ` +
          `allow that, or pass --api <url> (CloudFormation: ${e.message})`,
        { cause: error },
      );
    }
    throw new ApiLookupError(`cannot read ${where}: ${e.name}: ${e.message}`, { cause: error });
  }
  const stack = answer.Stacks?.[0];
  const url = stack?.Outputs?.find((o) => o.OutputKey === ENDPOINT_OUTPUT)?.OutputValue;
  if (!url) {
    throw new ApiLookupError(
      `${where} (${stack?.StackStatus ?? 'status unknown'}) has no ${ENDPOINT_OUTPUT} output: it is not deployed with its API yet. Pass --api <url>.`,
    );
  }
  return url;
}
