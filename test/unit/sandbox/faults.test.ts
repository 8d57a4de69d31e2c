import {
  DeleteParametersCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { PublishCommand } from '@aws-sdk/client-sns';
import { AwsTransientError, KubernetesApiError } from '#lib/errors';
import { isTransientAwsError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { sandboxDns } from '#lib/sandbox/dns';
import { callerTask, outsideWorkflow, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { sandboxProber } from '#lib/sandbox/prober';

/**
 * Injected faults, as the code meets them: which call they hit, and the shape of the error (the
 * SDK's exception classes, Node's socket errors as @smithy/node-http-handler raises them, the
 * Kubernetes reader's own errors, node:dns codes, failed probe samples).
 */

const open = () => withServices(SandboxEstate.inMemory());
const put = (name: string) => new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Overwrite: true });
const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://x',
  certificateAuthority: '',
};

describe('which calls a fault hits', () => {
  it('the k-th call of its command from now, and only that one', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'AccessDeniedException', nth: 3 });

    await ssm.send(put('/a'));
    await ssm.send(put('/b'));
    await expect(ssm.send(put('/c'))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await ssm.send(put('/d'));

    expect(Object.keys(estate.state.parameters).sort()).toEqual(['/a', '/b', '/d']);
    expect(estate.calls.map((c) => c.outcome)).toEqual(['ok', 'ok', 'AccessDeniedException', 'ok']);
  });

  it('`times` calls in a row, or every call from then on', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'AccessDeniedException', times: 2 });
    estate.injectFault({
      on: 'ssm:DeleteParameters',
      effect: 'error',
      error: 'AccessDeniedException',
      times: 'always',
    });
    const outcome = (call: Promise<unknown>) =>
      call.then(
        () => 'ok',
        (e: Error) => e.name,
      );

    const outcomes = [];
    for (const name of ['/a', '/b', '/c']) outcomes.push(await outcome(ssm.send(put(name))));
    for (let i = 0; i < 5; i += 1)
      outcomes.push(await outcome(ssm.send(new DeleteParametersCommand({ Names: ['/c'] }))));

    expect(outcomes).toEqual([
      'AccessDeniedException',
      'AccessDeniedException',
      'ok',
      ...Array(5).fill('AccessDeniedException'),
    ]);
    expect(estate.state.parameters['/c']).toBeDefined();
  });

  it('never a call made outside the workflow (a person fetching their NodeConfig)', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'AccessDeniedException' });

    await outsideWorkflow.run(true, () => ssm.send(put('/mine')));
    await expect(ssm.send(put('/workflow'))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('only the calls of the Task it names, with `task`', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    estate.injectFault({
      on: 'ssm:PutParameter',
      task: 'FinishOnboarding',
      effect: 'error',
      error: 'AccessDeniedException',
    });

    await callerTask.run('Preflight', () => ssm.send(put('/lock')));
    await expect(callerTask.run('FinishOnboarding', () => ssm.send(put('/done')))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('records which Task made each call', async () => {
    const estate = open();
    await callerTask.run('Preflight', () => estate.clients().ssm.send(put('/lock')));

    expect(estate.calls.at(-1)).toMatchObject({
      service: 'ssm',
      command: 'PutParameter',
      task: 'Preflight',
      outcome: 'ok',
    });
  });
});

describe("the SDK's own retries, as the clients make them", () => {
  it('a throttle the retries outlast is absorbed; one that lasts three attempts fails the call', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'ThrottlingException', times: 2 });

    await ssm.send(put('/a'));
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'ThrottlingException', times: 3 });
    await expect(ssm.send(put('/b'))).rejects.toBeInstanceOf(ThrottlingException);

    // maxAttempts 3 (lib/aws/clients.ts): each attempt is a call AWS answers.
    expect(estate.calls.map((c) => c.outcome)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
      'ThrottlingException',
      'ThrottlingException',
      'ThrottlingException',
    ]);
  });

  it('a refusal is not retried', async () => {
    const estate = open();
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'error', error: 'AccessDeniedException' });

    await expect(estate.clients().ssm.send(put('/a'))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(estate.calls).toHaveLength(1);
  });

  it('the single-attempt SNS client tries once', async () => {
    const estate = open();
    estate.injectFault({ on: 'sns:Publish', effect: 'error', error: 'Throttling' });
    const topic = `arn:aws:sns:ap-northeast-2:${estate.seed.account}:eks-hybrid-ops-sandbox-alerts`;

    await expect(
      estate.clients().snsSingleAttempt.send(new PublishCommand({ TopicArn: topic, Message: 'm' })),
    ).rejects.toMatchObject({ name: 'Throttling' });
    await estate.clients().sns.send(new PublishCommand({ TopicArn: topic, Message: 'm' }));
    expect(estate.calls.map((c) => [c.service, c.outcome])).toEqual([
      ['sns', 'Throttling'],
      ['sns', 'ok'],
    ]);
  });
});

describe('network faults', () => {
  it('a reset connection is what the SDK raises: Node code ECONNRESET, named TimeoutError; nothing changed', async () => {
    const estate = open();
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'network', error: 'ECONNRESET', times: 3 });

    const error = await estate
      .clients()
      .ssm.send(put('/a'))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 1 } });
    expect(isTransientAwsError(error)).toBe(true);
    expect(estate.state.parameters['/a']).toBeUndefined();
  });

  it('a lost answer: AWS did the work; the SDK tries again and does it again', async () => {
    const estate = open();
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'lost-response', error: 'TimeoutError' });

    await estate.clients().ssm.send(put('/a'));

    expect(estate.calls.map((c) => c.outcome)).toEqual(['lost', 'ok']);
    expect(estate.state.parameters['/a']?.version).toBe(2);
  });

  it('answers lost on every attempt: the caller gets only a timeout, the work done three times', async () => {
    const estate = open();
    estate.injectFault({ on: 'ssm:PutParameter', effect: 'lost-response', error: 'TimeoutError', times: 'always' });

    const error = await estate
      .clients()
      .ssm.send(put('/a'))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(estate.state.parameters['/a']?.version).toBe(3);
  });

  it('a lost refusal is a timeout too: the caller never learns what AWS said', async () => {
    const estate = open();
    estate.injectFault({ on: 'ssm:GetParameter', effect: 'lost-response', error: 'ECONNRESET', times: 3 });

    const error = await estate
      .clients()
      .ssm.send(new GetParameterCommand({ Name: '/none' }))
      .catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ParameterNotFound);
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET' });
    expect(estate.calls.at(-1)?.outcome).toBe('lost ParameterNotFound');
  });
});

describe('faults beyond AWS', () => {
  it('Kubernetes: an HTTP status as the reader reports it (5xx transient, 403 a refusal), or an unreachable API', async () => {
    const estate = open();
    const nodes = sandboxKubeApi(estate)(CLUSTER);
    estate.injectFault({ on: 'kubernetes:GetNode', effect: 'error', error: '503' });
    estate.injectFault({ on: 'kubernetes:GetNode', effect: 'error', error: '403', nth: 2 });
    estate.injectFault({ on: 'kubernetes:ListNodes', effect: 'network', error: 'ECONNRESET' });

    await expect(nodes.getNode('mi-x')).rejects.toBeInstanceOf(AwsTransientError);
    await expect(nodes.getNode('mi-x')).rejects.toBeInstanceOf(KubernetesApiError);
    await expect(nodes.getNode('mi-x')).resolves.toBeUndefined();
    await expect(nodes.listHybridNodes()[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(AwsTransientError);
  });

  it('DNS: the query fails with the resolver code', async () => {
    const estate = open();
    estate.injectFault({ on: 'dns:resolve4', effect: 'error', error: 'ESERVFAIL' });

    await expect(sandboxDns(estate, 'vpc-1').resolve4('harbor.company.local')).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
  });

  it('TCP probes: every sample of the faulted call fails with the code', async () => {
    const estate = open();
    estate.injectFault({ on: 'probe:tcp', effect: 'error', error: 'ETIMEDOUT' });
    const host = estate.seed.onPrem.links[0]?.host ?? '';
    const options = { samples: 4, intervalMs: 0, timeoutMs: 100 };

    const faulted = await sandboxProber(estate).tcpConnectSamples(host, 53, options);
    const after = await sandboxProber(estate).tcpConnectSamples(host, 53, options);

    expect(faulted).toEqual(Array(4).fill({ ok: false, error: 'ETIMEDOUT' }));
    expect(after.every((s) => s.ok)).toBe(true);
  });
});
