import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalApi, serveApi } from '#cli/api/serve';
import type { LocalIdentity } from '#cli/api/sigv4';
import { signedFetch, signRequest } from '#cli/client/signed-fetch';
import { main } from '#cli/main';
import { WORKFLOWS } from '#cli/workflows/index';
import type { LocalWorkflow } from '#cli/workflows/types';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';

/**
 * `hybridops api serve` end to end, driven by the client itself (`hybridops nodes ...`, signing
 * with SigV4 as a team would): submit POST /nodes, fetch the NodeConfig once it is issued, follow
 * the onboarding to its end while it runs in the server's process, list it, and remove the node.
 * Unsigned and tampered requests, and another identity's NodeConfig fetch, are refused.
 */

const ACCOUNT = '111122223333';
const REGION = 'ap-northeast-2';
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
const REQUEST_FILE = join(__dirname, '..', '..', 'events', 'onboard-node.json');
const REQUEST = JSON.parse(readFileSync(REQUEST_FILE, 'utf8'));

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

/** `hybridops <args> --api <local API>` as `who`; each poll's wait is a few milliseconds of real time. */
async function hybridops(args: string[], who: LocalIdentity = ALICE) {
  const out = { text: '', isTTY: false, write: (t: string) => (out.text += t) };
  const err = { text: '', write: (t: string) => (err.text += t) };
  const code = await main(
    [...args, '--api', api.url, '--region', REGION],
    { stdout: out, stderr: err },
    {},
    {
      credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
      whoami: async () => who.arn,
      sleep: () => new Promise((resolve) => setTimeout(resolve, 5)),
      now: Date.now,
    },
  );
  return { code, out: out.text, err: err.text };
}

it('onboards a node with the client, writes its NodeConfig 0600, follows, lists and removes it', async () => {
  const added = await hybridops(['nodes', 'add', REQUEST_FILE, '--json']);
  expect(added).toMatchObject({ code: 0, err: '' });
  const requestId = String(JSON.parse(added.out).requestId);
  expect(requestId).toMatch(/^gpu-node-01-/);

  const file = join(home, 'handout', 'nodeConfig.yaml');
  const config = await hybridops(['nodes', 'config', requestId, '--out', file, '--wait']);
  fetched();
  expect(config).toMatchObject({ code: 0, err: '' });
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const yaml = readFileSync(file, 'utf8');
  const activationCode = /activationCode: *"?([^"\s]+)/.exec(yaml)?.[1];
  expect(activationCode).toBeTruthy();
  expect(config.out).toContain('nodeadm init');
  expect(config.out).not.toContain(activationCode);

  const followed = await hybridops(['nodes', 'get', requestId, '--wait']);
  expect(followed.code).toBe(0);
  expect(followed.out).toMatch(/^SUCCEEDED done$/m);
  expect(followed.out).toMatch(/^ {2}outcome: joined/m);

  const listed = await hybridops(['nodes', 'list', '--status', 'SUCCEEDED', '--json']);
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.out)).toEqual({
    nodes: [{ requestId, status: 'SUCCEEDED', startedAt: expect.any(String), stoppedAt: expect.any(String) }],
  });
  const table = await hybridops(['nodes', 'list']);
  expect(table.out).toMatch(new RegExp(`^${requestId} +SUCCEEDED `, 'm'));
  await expect(hybridops(['nodes', 'list', '--status', 'RUNNING', '--json'])).resolves.toMatchObject({
    code: 0,
    out: '{"nodes":[]}\n',
  });

  const removed = await hybridops([
    'nodes',
    'remove',
    REQUEST.node.name,
    '--input',
    join(__dirname, '..', '..', 'events', 'offboard-node.json'),
    '--wait',
  ]);
  expect(removed.code).toBe(0);
  expect(removed.out).toContain('accepted: requestId ');
  expect(removed.out).toMatch(/^SUCCEEDED/m);
}, 120_000);

it("answers for a fleet's servers as AWS does: each is an onboard-node execution to list and follow", async () => {
  fetched();
  const fleet = JSON.parse(readFileSync(join(__dirname, '..', '..', 'events', 'onboard-fleet.json'), 'utf8'));
  const file = join(home, 'fleet.json');
  writeFileSync(file, JSON.stringify({ ...fleet, servers: fleet.servers.slice(0, 2) }));

  const added = await hybridops(['fleets', 'add', file, '--wait', '--json']);
  expect(added).toMatchObject({ code: 0, err: '' });
  const members = (JSON.parse(added.out).nodes as Array<{ requestId: string }>).map((n) => n.requestId);
  expect(members).toHaveLength(2);

  const listed = await hybridops(['nodes', 'list', '--json']);
  expect((JSON.parse(listed.out).nodes as Array<{ requestId: string }>).map((n) => n.requestId).sort()).toEqual(
    [...members].sort(),
  );
  const member = await hybridops(['nodes', 'get', members[0]!]);
  expect(member.code).toBe(0);
  expect(member.out).toMatch(/^SUCCEEDED done$/m);
}, 120_000);

/** A request to the local API: signed with the product's signer when `who` is given, else unsigned. */
async function raw(
  method: string,
  path: string,
  who?: { accessKeyId: string; secretAccessKey: string },
  body?: object,
) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (who) return signedFetch(method, `${api.url}${path}`, text, { region: REGION, credentials: who });
  const response = await fetch(`${api.url}${path}`, { method, ...(text ? { body: text } : {}) });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: (await response.json()) as Record<string, unknown>,
  };
}

it("serves a NodeConfig to its requester only: another identity's fetch is refused", async () => {
  const submitted = await raw('POST', '/nodes', ALICE, REQUEST);
  const requestId = String(submitted.body.requestId);
  // The status URL is the one this API answers at (http, no stage), as in AWS it is the caller's.
  expect(submitted.body.statusUrl).toBe(`${api.url}/nodes/${requestId}`);
  expect(submitted.headers.location).toBe(`${api.url}/nodes/${requestId}`);
  const config = await hybridops(['nodes', 'config', requestId, '--out', join(home, 'alice.yaml'), '--wait']);

  const bobs = await raw('GET', `/nodes/${requestId}/nodeconfig`, BOB);
  const bobsClient = await hybridops(['nodes', 'config', requestId, '--out', join(home, 'bob.yaml')], BOB);

  expect(config.code).toBe(0);
  expect(bobs.status).toBe(403);
  expect(JSON.stringify(bobs.body)).not.toContain('activationCode');
  expect(bobsClient.code).toBe(1);
  expect(bobsClient.err).toContain(`signed as ${BOB.arn}`);
  expect(() => statSync(join(home, 'bob.yaml'))).toThrow();
});

it('refuses unsigned and tampered requests with API Gateway 403s, before any handler runs', async () => {
  const unsigned = await raw('POST', '/nodes', undefined, REQUEST);
  const stranger = await raw('POST', '/nodes', { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'guessed' }, REQUEST);
  // Signed for one body, sent with another.
  const signed = await signRequest('POST', `${api.url}/nodes`, JSON.stringify(REQUEST), {
    region: REGION,
    credentials: ALICE,
  });
  const { host: _host, ...headers } = signed.headers;
  const tampered = await fetch(`${api.url}/nodes`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ ...REQUEST, node: { ...REQUEST.node, name: 'gpu-node-99' } }),
  });
  const unknownRoute = await raw('GET', '/clusters', ALICE);

  expect(unsigned).toMatchObject({ status: 403, body: { message: 'Missing Authentication Token' } });
  expect(unsigned.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
  expect(stranger.status).toBe(403);
  expect(stranger.body.message).toMatch(/^The request signature we calculated does not match/);
  expect(tampered.status).toBe(403);
  expect(tampered.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
  expect(unknownRoute).toMatchObject({ status: 403, body: { message: 'Missing Authentication Token' } });
  const signedRead = await raw('GET', `/nodes/${'x'.repeat(10)}`, ALICE);
  expect(signedRead.status).not.toBe(403);
  const list = await raw('GET', '/nodes', ALICE);
  expect(list).toMatchObject({ status: 200, body: { nodes: [] } });
});
