import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadServerlessConfig } from '#cli/serverless-config';
import { CLIENT_PACKAGES, type ServiceName } from '#lib/aws/clients';
import type { DeclaredClients } from '#functions/commons/declared-clients';
import {
  type FunctionArtefact,
  functionArtefacts,
  installedVersion,
  packageService,
  sdkClientDependencies,
} from '#scripts/artefacts';
import { CLUSTER, eksCluster, lambdaContext, onboardingInput } from '../helpers/onboarding-fixtures';

/**
 * The SDK that runs is the SDK that was tested: packages the service with osls and reads each
 * function's zip back. Every bundle carries its AWS SDK clients (Lambda's own SDK is never used),
 * exactly those its handler declares, and runs on its own: in a directory with no node_modules,
 * a bundled handler signs and sends its calls with the SDK version package-lock.json pins.
 */

const ROOT = join(__dirname, '..', '..');
const WORK_FOLDER = `.esbuild-bundles-test-${process.pid}`;
let out: string;
let artefacts: FunctionArtefact[];

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'hybridops-bundles-'));
  packageService(out, { workFolder: WORK_FOLDER });
  artefacts = functionArtefacts(out);
}, 600_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(join(ROOT, WORK_FOLDER), { recursive: true, force: true });
});

/** The SDK clients a function's handler declares (taskHandler / apiHandler export them). */
function declaredClients(module: string): DeclaredClients {
  const declared = (require(join(ROOT, module)) as { clients?: DeclaredClients }).clients;
  return { sends: declared?.sends ?? [], credentialsOf: declared?.credentialsOf ?? [] };
}
const packagesOf = (services: ServiceName[]) => [...new Set(services.map((s) => CLIENT_PACKAGES[s]))].sort();

/** Unpacks a function's bundle into a directory of its own, with nothing else in it. */
function unpack(artefact: FunctionArtefact): string {
  const dir = mkdtempSync(join(tmpdir(), `hybridops-${artefact.key}-`));
  const file = join(dir, `${artefact.module}.js`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, artefact.js);
  writeFileSync(`${file}.map`, artefact.map);
  return dir;
}

/**
 * Runs `code` in a fresh Node in `dir`, with only the environment given (no NODE_PATH, HOME in
 * `dir`): nothing outside the bundle can be found.
 */
function node(dir: string, code: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', code],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_OPTIONS: '--enable-source-maps', ...env } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

describe('the function bundles', () => {
  it('are one per function, each with its handler and source map', () => {
    expect(artefacts.map((a) => a.key).sort()).toEqual(Object.keys(loadServerlessConfig('ci').functions).sort());
  });

  it('carry exactly the SDK clients each handler declares, and send commands with those it says', () => {
    for (const artefact of artefacts) {
      const declared = declaredClients(artefact.module);
      // Every function calls AWS (checkNode signs its EKS token with the STS client's credentials).
      expect({ key: artefact.key, declares: declared.sends.length + declared.credentialsOf.length > 0 }).toEqual({
        key: artefact.key,
        declares: true,
      });
      const own = packagesOf([...declared.sends, ...declared.credentialsOf]);
      // A client may bring clients of its own (an older SDK's credential chain bundles SSO's).
      const brought = sdkClientDependencies(own);
      const ownOrStray = (pkg: string) => own.includes(pkg) || !brought.has(pkg);
      // The commands esbuild kept are those the function's code can send: their clients are the
      // ones it calls, and must be what the handler declares.
      expect({
        key: artefact.key,
        clients: artefact.sdkClients.filter(ownOrStray),
        sendsWith: Object.keys(artefact.sdkCommands).filter(ownOrStray).sort(),
      }).toEqual({ key: artefact.key, clients: own, sendsWith: packagesOf(declared.sends) });
    }
  });

  it('leave no SDK client to the Lambda runtime: each loads from its zip alone', async () => {
    for (const artefact of artefacts) {
      expect({ key: artefact.key, external: /require\("@aws-sdk\/client-/.test(artefact.js.toString('utf8')) }).toEqual(
        {
          key: artefact.key,
          external: false,
        },
      );
    }
    const dirs = artefacts.map(unpack);
    try {
      const loaded = await Promise.all(
        artefacts.map((artefact, i) =>
          node(
            dirs[i] as string,
            `require('./${artefact.module}.js');
             const outside = Object.keys(require.cache).filter((f) => !f.startsWith(process.cwd()));
             process.stdout.write(JSON.stringify(outside));`,
            { AWS_REGION: 'ap-northeast-2' },
          ).then((stdout) => ({ key: artefact.key, outside: JSON.parse(stdout) as string[] })),
        ),
      );
      expect(loaded).toEqual(artefacts.map((a) => ({ key: a.key, outside: [] })));
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("run the tested SDK: preflight's bundle reads remoteNetworkConfig, with package-lock.json's EKS client", async () => {
    // A stand-in for the EKS API: DescribeCluster of a cluster whose remote networks fit the node,
    // in CONFIG_MAP mode, so the next check (access entries) fails without another call. An SDK
    // that did not know remoteNetworkConfig would drop it and fail RemoteNetworkNotConfiguredError.
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      const cluster = eksCluster({
        resourcesVpcConfig: { subnetIds: ['subnet-0aa1a1a1a1a1a1a1a'] },
        accessConfig: { authenticationMode: 'CONFIG_MAP' },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cluster }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const preflight = artefacts.find((a) => a.key === 'preflight') as FunctionArtefact;
    const dir = unpack(preflight);
    try {
      const stdout = await node(
        dir,
        `require('./${preflight.module}.js')
           .handler(${JSON.stringify(onboardingInput())}, ${JSON.stringify(lambdaContext())})
           .then(() => 'SUCCEEDED', (e) => e.name + ': ' + e.message)
           .then((outcome) => process.stdout.write(outcome));`,
        {
          ...loadServerlessConfig('ci').functions.preflight?.environment,
          AWS_REGION: 'ap-northeast-2',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          AWS_ENDPOINT_URL_EKS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      );
      expect(stdout).toMatch(
        /^HybridAccessEntryMissingError: Cluster gpu-hybrid-cluster uses authentication mode CONFIG_MAP/,
      );
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /clusters/${CLUSTER}`]);
      const [request] = requests;
      expect(request?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-northeast-2\/eks\//,
      );
      expect(String(request?.headers['user-agent'])).toContain(`api/eks#${installedVersion('@aws-sdk/client-eks')}`);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
