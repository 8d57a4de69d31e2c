import { UsageError } from '../local-runtime';
import { regionOfApiUrl } from './signed-fetch';

export interface ApiLocation {
  /** The stage's base URL, no trailing slash: `https://{id}.execute-api.{region}.amazonaws.com/{stage}`. */
  base: string;
  /** The region requests are signed for. */
  region: string;
}

/**
 * Where the API is: `--api`, else `HYBRIDOPS_API`. Reading the deployed stack's `ServiceEndpoint`
 * output (the name Serverless gives the API's URL: osls
 * lib/plugins/aws/package/compile/events/api-gateway/lib/deployment.js) needs CloudFormation
 * DescribeStacks, and
 * @aws-sdk/client-cloudformation is not a dependency: the error says how to get the URL instead.
 * The region is the URL's own (execute-api hosts name it), else `--region`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION`.
 */
export function apiLocation(
  values: { api?: string; region?: string; stage?: string },
  env: NodeJS.ProcessEnv,
): ApiLocation {
  const given = values.api ?? env.HYBRIDOPS_API;
  if (!given) {
    const stage = values.stage ?? 'dev';
    const region = values.region ?? env.AWS_REGION ?? 'ap-northeast-2';
    throw new UsageError(
      `which API? Pass --api <url> or set HYBRIDOPS_API. The deployed stage's URL is the stack's ServiceEndpoint output:\n` +
        `  aws cloudformation describe-stacks --stack-name eks-hybrid-ops-${stage} --region ${region} ` +
        `--query "Stacks[0].Outputs[?OutputKey=='ServiceEndpoint'].OutputValue" --output text`,
    );
  }
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
  const fromUrl = regionOfApiUrl(url.href);
  if (fromUrl && values.region && values.region !== fromUrl) {
    throw new UsageError(`--region ${values.region} does not match the API's region ${fromUrl} (${url.host})`);
  }
  const region = fromUrl ?? values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError(`--region is needed to sign requests for ${url.host}`);
  return { base: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, region };
}
