import {
  InstanceInformationFilterKey,
  type InstanceInformation,
  paginateDescribeInstanceInformation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { Clock } from '../clock';
import { RegistrationTimeoutError } from '../errors';
import { ONBOARDING_TIMINGS } from '../settings';
import { backoffSeconds } from './backoff';
import type { RegistrationState } from './state';

/** Polls one onboarding may make while waiting: 2,000 x ~9 history events stays under 25,000. */
export const MAX_REGISTRATION_POLLS = 2000;

export interface RegistrationInput {
  activationId: string;
  activationExpiresAt: string;
  nodeName: string;
  /** Polls made so far. */
  attempt: number;
}

/**
 * One poll for the managed instance that registers with the activation. Not there yet: says how
 * long to wait before the next poll (backing off to the SSM agent's 5-minute heartbeat). Still
 * not there when the activation expires, after which nothing can register with it: fails.
 */
export async function checkRegistration(
  deps: { ssm: SSMClient; clock: Clock },
  input: RegistrationInput,
): Promise<RegistrationState> {
  const attempt = input.attempt + 1;
  const found = (await instancesOfActivation(deps.ssm, input.activationId)).find((i) => i.InstanceId);
  if (found?.InstanceId) {
    const now = deps.clock.now();
    return {
      registered: true,
      attempt,
      nextWaitSeconds: 0,
      instance: {
        instanceId: found.InstanceId,
        platform: [found.PlatformName, found.PlatformVersion].filter(Boolean).join(' ') || undefined,
        ipAddress: found.IPAddress,
        registeredAt: (found.RegistrationDate ?? now).toISOString(),
      },
    };
  }
  const now = deps.clock.now();
  const expiresAt = new Date(input.activationExpiresAt);
  if (now >= expiresAt) {
    throw new RegistrationTimeoutError(
      `No server registered with activation ${input.activationId} for ${input.nodeName} before it expired at ${input.activationExpiresAt} (${attempt} polls).`,
      'On the server, run the commands that come with the NodeConfig (GET /nodes/{requestId}/nodeconfig), check it reaches ssm and ssmmessages on TCP 443, then submit the onboarding again.',
    );
  }
  const t = ONBOARDING_TIMINGS;
  const untilExpiry = Math.ceil((expiresAt.getTime() - now.getTime()) / 1000);
  // A Standard execution ends, uncatchably, at 25,000 history events, about 9 per poll. When
  // 5-minute polls would not fit the time left (activations of more than about a week), spread
  // them so that even a 30-day activation needs at most MAX_REGISTRATION_POLLS.
  const pollsLeft = Math.max(1, MAX_REGISTRATION_POLLS - attempt);
  const backoff = backoffSeconds(
    input.attempt,
    t.registrationFirstWaitSeconds,
    t.registrationMaxWaitSeconds,
    t.backoffRate,
  );
  const wait =
    untilExpiry / t.registrationMaxWaitSeconds > pollsLeft
      ? Math.max(backoff, Math.ceil(untilExpiry / pollsLeft))
      : backoff;
  return { registered: false, attempt, nextWaitSeconds: Math.min(wait, untilExpiry) };
}

/**
 * The managed instances that registered with an activation (at most its registration limit). SSM
 * filters each page it reads, so the instance can come after pages that hold nothing but a
 * NextToken: every page is read.
 */
async function instancesOfActivation(ssm: SSMClient, activationId: string): Promise<InstanceInformation[]> {
  const found: InstanceInformation[] = [];
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: InstanceInformationFilterKey.ACTIVATION_IDS, Values: [activationId] }] },
  )) {
    found.push(...(page.InstanceInformationList ?? []));
  }
  return found;
}
