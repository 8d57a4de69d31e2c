import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import * as checkResolution from '#functions/reconcile-network/check-resolution';
import * as probeBatch from '#functions/nightly-sweep/probe-batch';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { CONNECTION_TIMEOUT_MS, createAwsClients } from '#lib/aws/clients';
import { ManualClock } from '#lib/clock';
import { logger } from '#lib/logger';
import { installRuntime } from '#functions/commons/runtime';
import type { Runtime } from '#lib/runtime';
import { lambdaContext, REGION, settings } from '../helpers/onboarding-fixtures';
import { slowListener } from '../helpers/slow-listener';

/**
 * A function in a VPC with no NAT and no VPC endpoint cannot connect to the AWS APIs it calls.
 * Without a connection timeout the SDK waits for the OS (minutes) and the Lambda times out
 * saying nothing; with one, the call fails after the SDK's tries and the Task's error names the
 * endpoint and the missing route. The endpoint here is a real socket nobody accepts on: a
 * listener whose queue is full, so the kernel drops the connection's SYN.
 */

let listener: Awaited<ReturnType<typeof slowListener>>;
let logged: jest.SpyInstance;
const endpointBefore = process.env.AWS_ENDPOINT_URL;

beforeAll(async () => {
  listener = await slowListener();
  // Every client's calls go to the listener (the SDK's configured-endpoint variable).
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${listener.port}`;
});
afterAll(() => {
  listener.close();
  if (endpointBefore === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = endpointBefore;
});
beforeEach(() => {
  logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  installRuntime(undefined);
  logged.mockRestore();
});

/** A runtime in the cluster VPC whose clients connect to nothing, giving up soon. */
function inVpcWithNoWayOut(): Runtime {
  return {
    settings: {
      ...settings(),
      storeBucket: 'eks-hybrid-ops-test-store',
      resolutionChecks: true,
      connectivityProbes: true,
    },
    clients: createAllAwsClients({
      region: REGION,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 2,
      connectionTimeoutMs: 100,
    }),
    clock: new ManualClock('2026-11-22T18:00:00Z'),
    nodes: () => {
      throw new Error('must not read Nodes');
    },
    dns: { resolve4: () => Promise.reject(new Error('must not resolve')) },
    prober: { tcpConnectSamples: () => Promise.reject(new Error('must not probe')) },
  };
}

describe('a call that never connects to AWS', () => {
  it('gives every client a connection timeout', () => {
    let config: unknown;
    class Recorded extends SSMClient {
      constructor(c: SSMClientConfig) {
        super(c);
        config = c;
      }
    }
    expect(createAwsClients({ region: REGION }, { ssm: Recorded }).ssm).toBeInstanceOf(SSMClient);
    expect(config).toMatchObject({ requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS } });
  });

  it('fails ProbeBatch (S3, the run store) naming the S3 endpoint and the way to give it one', async () => {
    installRuntime(inVpcWithNoWayOut());
    const sweepId = '20261122T180000Z-a1b2c3';
    const attempt = probeBatch.handler({ sweepId, batch: `runs/${sweepId}/targets/0000.json` }, lambdaContext());

    await expect(attempt).rejects.toMatchObject({
      name: 'AwsTransientError',
      message: expect.stringMatching(
        /^No connection to com\.amazonaws\.ap-northeast-2\.s3 within 100 ms, on any try\. A function in a VPC reaches AWS APIs only through a NAT gateway or a VPC endpoint of the service\. Fix: Deploy with --param vpcEndpoints=true/,
      ),
    });
  });

  it('fails CheckResolution (Route 53 Resolver, an older SDK client) naming the Resolver endpoint', async () => {
    installRuntime(inVpcWithNoWayOut());
    const desired = {
      version: 1,
      clusters: [
        {
          name: 'gpu-hybrid-cluster',
          dns: {
            outbound: {
              endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
              rules: [{ domain: 'company.local', targets: [{ ip: '192.168.1.53', port: 53 }] }],
            },
            inbound: { endpointId: 'rslvr-in-0a1b2c3d4e5f60718' },
            checks: { awsName: 'my-service.eks.amazonaws.com' },
          },
        },
      ],
    };

    await expect(checkResolution.handler({ desired }, lambdaContext())).rejects.toMatchObject({
      name: 'AwsTransientError',
      message: expect.stringContaining('No connection to com.amazonaws.ap-northeast-2.route53resolver within 100 ms'),
    });
  });
});
