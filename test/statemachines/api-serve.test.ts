import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalApi, serveApi } from '#cli/api/serve';
import type { LocalIdentity } from '#cli/api/sigv4';
import { WORKFLOWS } from '#cli/workflows/index';
import type { LocalWorkflow } from '#cli/workflows/types';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { signedFetch } from '../helpers/sigv4-fetch';

/**
 * `hybridops api serve` end to end: a team signs its requests with SigV4, submits POST /nodes,
 * follows GET /nodes/{id} while the workflow runs in the server's process, fetches its NodeConfig,
 * and removes the node; unsigned and tampered requests, and another identity's NodeConfig fetch,
 * are refused.
 */

const ACCOUNT = '111122223333';
const ALICE: LocalIdentity = {
  accessKeyId: 'AKIALOCALALICE000001',
  secretAccessKey: 'alice-secret',
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
};
const BOB: LocalIdentity = {
  accessKeyId: 'AKIALOCALBOB00000001',
  secretAccessKey: 'bob-secret',
  arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
};
const REQUEST = JSON.parse(readFileSync(join(__dirname, '..', '..', 'events', 'onboard-node.json'), 'utf8'));

let home: string;
let api: LocalApi;
/** Released once the test has fetched the NodeConfig: the onboarding waits there, as for a person. */
let fetched: () => void;

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-api-'));
  const held = new Promise<void>((resolve) => {
    fetched = resolve;
  });
  // The team fetches the NodeConfig itself, through the API (which starts its simulated server):
  // the onboarding waits for that after its first registration check, as it would for a person.
  const onboard: LocalWorkflow = {
    ...WORKFLOWS['onboard-node']!,
    afterTask: () => ({ CheckRegistration: () => held }),
  };
  api = await serveApi(withServices(SandboxEstate.inMemory()), home, {
    port: 0,
    identities: [ALICE, BOB],
    workflows: { ...WORKFLOWS, 'onboard-node': onboard },
  });
});
afterEach(async () => {
  fetched();
  await api.close();
  rmSync(home, { recursive: true, force: true });
});

const as = (identity: LocalIdentity | undefined) => ({ credentials: identity });

/** GETs `path` until `ended` says so (at most `polls` times; each poll waits for the event loop only). */
async function follow(path: string, ended: (body: Record<string, unknown>) => boolean, polls = 5000) {
  for (let i = 0; i < polls; i += 1) {
    const answer = await signedFetch(api.url, 'GET', path, as(ALICE));
    if (answer.status !== 200 || ended(answer.body)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${path} did not end within ${polls} polls`);
}

it('onboards a node through signed calls, serves its NodeConfig to its requester only, and removes it', async () => {
  const submitted = await signedFetch(api.url, 'POST', '/nodes', { ...as(ALICE), body: REQUEST });
  expect(submitted.status).toBe(202);
  const requestId = String(submitted.body.requestId);

  const ready = await follow(`/nodes/${requestId}`, (b) => b.nodeConfigReady === true || b.status !== 'RUNNING');
  const config = await signedFetch(api.url, 'GET', `/nodes/${requestId}/nodeconfig`, as(ALICE));
  const othersConfig = await signedFetch(api.url, 'GET', `/nodes/${requestId}/nodeconfig`, as(BOB));
  fetched();
  const ended = await follow(`/nodes/${requestId}`, (b) => b.status !== 'RUNNING');

  expect(ready.body).toMatchObject({ status: 'RUNNING', nodeConfigReady: true });
  expect(config.status).toBe(200);
  expect(config.headers.get('cache-control')).toBe('no-store');
  expect(JSON.stringify(config.body)).toContain('nodeadm');
  expect(othersConfig.status).toBe(403);
  expect(JSON.stringify(othersConfig.body)).not.toContain('activationCode');
  expect(ended.body).toMatchObject({ status: 'SUCCEEDED', phase: 'done', outcome: expect.stringMatching(/^joined/) });

  const listed = await signedFetch(api.url, 'GET', '/nodes?status=SUCCEEDED&limit=5', as(ALICE));
  expect(listed).toMatchObject({
    status: 200,
    body: { nodes: [{ requestId, status: 'SUCCEEDED', startedAt: expect.any(String), stoppedAt: expect.any(String) }] },
  });
  const none = await signedFetch(api.url, 'GET', '/nodes?status=RUNNING', as(ALICE));
  expect(none).toMatchObject({ status: 200, body: { nodes: [] } });

  const removal = await signedFetch(api.url, 'DELETE', `/nodes/${REQUEST.node.name}`, {
    ...as(ALICE),
    body: { clientToken: 'retire-gpu-node-01' },
  });
  expect(removal.status).toBe(202);
  const statusPath = new URL(String(removal.body.statusUrl)).pathname;
  const removed = await follow(statusPath, (b) => b.status !== 'RUNNING');
  expect(removed.body).toMatchObject({ status: 'SUCCEEDED' });
}, 120_000);

it('refuses unsigned and tampered requests with API Gateway 403s, before any handler runs', async () => {
  const unsigned = await signedFetch(api.url, 'POST', '/nodes', { body: REQUEST });
  const stranger = await signedFetch(api.url, 'POST', '/nodes', {
    credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'guessed' },
    body: REQUEST,
  });
  const unknownRoute = await signedFetch(api.url, 'GET', '/clusters', as(ALICE));

  expect(unsigned).toMatchObject({ status: 403, body: { message: 'Missing Authentication Token' } });
  expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  expect(stranger.status).toBe(403);
  expect(stranger.body.message).toMatch(/^The request signature we calculated does not match/);
  expect(unknownRoute).toMatchObject({ status: 403, body: { message: 'Missing Authentication Token' } });
  const signedRead = await signedFetch(api.url, 'GET', `/nodes/${'x'.repeat(10)}`, as(ALICE));
  expect(signedRead.status).not.toBe(403);
});
