import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { openSandbox } from '#lib/sandbox/index';
import { UsageError } from '../local-runtime';
import type { Streams } from '../main';
import { serveApi } from './serve';
import type { LocalIdentity } from './sigv4';

/**
 * `hybridops api serve [--port 8080]`. The local server cannot know a real secret key, so it
 * verifies signatures with the credentials it knows: those of the standard credential chain it
 * was started with (a client run in the same environment, profile or SSO session signs with the
 * same ones), and a fixed local pair it prints, for a machine with no AWS credentials. Both are
 * reported as IAM users of the sandbox's account.
 */

export const LOCAL_PAIR = { accessKeyId: 'AKIAHYBRIDOPSLOCAL01', secretAccessKey: 'hybridops-local-secret' };

export const API_HELP = `Usage: hybridops api serve [--port 8080]

Serves the REST API on http://127.0.0.1:<port> against the sandbox estate, through the same
handlers as Lambda, with the workflows it starts run in this process. Every request must be
SigV4-signed (service execute-api) with the credentials of this shell's AWS credential chain, or
with the local pair it prints; an unsigned or tampered request gets API Gateway's 403.
`;

export async function apiCommand(
  subject: string | undefined,
  values: { port?: string },
  io: Streams,
  home: string,
  until: Promise<unknown> = stopSignal(),
  chain: () => Promise<Omit<LocalIdentity, 'arn'> | undefined> = chainCredentials,
): Promise<number> {
  if (subject !== 'serve') throw new UsageError(`unknown api command '${subject ?? ''}'\n\n${API_HELP}`);
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a port number (0-65535), not '${values.port}'`);
  }
  const estate = openSandbox(home);
  const account = estate.seed.account;
  const identities: LocalIdentity[] = [{ ...LOCAL_PAIR, arn: `arn:aws:iam::${account}:user/hybridops-local` }];
  const shell = await chain();
  if (shell && shell.accessKeyId !== LOCAL_PAIR.accessKeyId) {
    identities.push({ ...shell, arn: `arn:aws:iam::${account}:user/${process.env.AWS_PROFILE ?? 'local-caller'}` });
  }
  const api = await serveApi(estate, home, { port, identities });
  io.stdout.write(banner(api.url, home, estate, identities, Boolean(shell)));
  await until;
  await api.close();
  return 0;
}

/**
 * What `api serve` prints: where it serves, whose signatures it takes, and what a second terminal
 * runs to use the client against it: the API's URL and a region to sign for (any region signs;
 * the sandbox's is the one its ARNs name), the local pair when this shell has no AWS credentials
 * (so the other has none either), and the first command to try.
 */
function banner(
  url: string,
  home: string,
  estate: { seed: { region: string }; state: { scenario: string } },
  identities: LocalIdentity[],
  shellHasCredentials: boolean,
): string {
  const pair = `AWS_ACCESS_KEY_ID=${LOCAL_PAIR.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_PAIR.secretAccessKey}`;
  return [
    `hybridops: the API on ${url} (sandbox estate under ${home}, scenario ${estate.state.scenario})`,
    `  signatures checked with: ${identities.map((i) => `${i.accessKeyId} (${i.arn})`).join(', ')}`,
    '',
    'In a second terminal, in this directory:',
    `  export HYBRIDOPS_API=${url} AWS_REGION=${estate.seed.region}`,
    ...(shellHasCredentials
      ? [`  (this shell's AWS credentials sign; without them: export ${pair})`]
      : [`  export ${pair}`]),
    '  npx hybridops nodes add events/onboard-node.json --wait',
    '  npx hybridops nodes list',
    '',
    'Ctrl-C stops it.',
    '',
  ].join('\n');
}

/** The credentials of the standard chain (env, profile, SSO, role), or undefined when there are none. */
async function chainCredentials(): Promise<Omit<LocalIdentity, 'arn'> | undefined> {
  try {
    const { accessKeyId, secretAccessKey, sessionToken } = await defaultProvider({ maxRetries: 0, timeout: 500 })();
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  } catch {
    return undefined;
  }
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
