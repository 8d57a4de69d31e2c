import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '#cli/serverless-config';
import { type FunctionArtefact, functionArtefacts, packageService } from './artefacts';

/**
 * The functions as Lambda gets them: `osls package` writes each zip, and each bundle is loaded
 * the way the runtime loads it, in a fresh Node with NODE_OPTIONS=--enable-source-maps (as
 * serverless.yml sets it), from a directory that holds the bundle and nothing else. Bundles that
 * leave the AWS SDK to the runtime (the baseline, before bundling) find it through NODE_PATH, as
 * Lambda's Node.js runtime finds its own SDK (/var/runtime/node_modules).
 */

export interface FunctionFigures {
  key: string;
  zipBytes: number;
  jsBytes: number;
  mapBytes: number;
  /** The @aws-sdk/client-* packages in the bundle, with the number of their commands in it. */
  bundled: Array<{ client: string; commands: number }>;
  /** The @aws-sdk/client-* packages loaded from outside the bundle during init. */
  loadedFromRuntime: string[];
  initMs: number;
  rssMiB: number;
}

export interface FunctionsBaseline {
  ref: string;
  commit: string;
  date: string;
  node: string;
  runs: number;
  functions: FunctionFigures[];
}

export const BASELINE_FILE = join(PROJECT_ROOT, 'bench', 'functions-before-bundling.json');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Node code that times loading the bundle, then reports the time, RSS and the SDK clients it loaded from outside. */
const INIT_PROBE = (file: string) =>
  `const t=process.hrtime.bigint();require(${JSON.stringify(file)});const ms=Number(process.hrtime.bigint()-t)/1e6;
const outside=[...new Set(Object.keys(require.cache).map((k)=>(k.match(/node_modules\\/(@aws-sdk\\/client-[a-z0-9-]+)\\//)||[])[1]).filter(Boolean))].sort();
process.stdout.write(JSON.stringify({ms,rss:process.memoryUsage().rss,outside}))`;

function measure(artefact: FunctionArtefact, runs: number, sdkPath?: string): FunctionFigures {
  const dir = mkdtempSync(join(tmpdir(), `hybridops-bench-${artefact.key}-`));
  const file = join(dir, `${artefact.module}.js`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, artefact.js);
  writeFileSync(`${file}.map`, artefact.map);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    AWS_REGION: 'ap-northeast-2',
    NODE_OPTIONS: '--enable-source-maps',
    ...(sdkPath ? { NODE_PATH: sdkPath } : {}),
  };
  try {
    const samples = Array.from(
      { length: runs },
      () =>
        JSON.parse(execFileSync(process.execPath, ['-e', INIT_PROBE(file)], { cwd: dir, env }).toString()) as {
          ms: number;
          rss: number;
          outside: string[];
        },
    );
    return {
      key: artefact.key,
      zipBytes: artefact.zipBytes,
      jsBytes: artefact.js.length,
      mapBytes: artefact.map.length,
      bundled: artefact.sdkClients.map((client) => ({ client, commands: artefact.sdkCommands[client]?.length ?? 0 })),
      loadedFromRuntime: samples[0]?.outside ?? [],
      initMs: median(samples.map((s) => s.ms)),
      rssMiB: median(samples.map((s) => s.rss)) / 2 ** 20,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Packages the project at `root` and measures each function's artefact. */
function packageAndMeasure(root: string, runs: number, sdkPath?: string): FunctionFigures[] {
  const out = mkdtempSync(join(tmpdir(), 'hybridops-bench-package-'));
  const workFolder = `.esbuild-bench-${process.pid}`;
  try {
    packageService(out, { stage: 'bench', workFolder, root });
    return functionArtefacts(out, root).map((a) => measure(a, runs, sdkPath));
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(join(root, workFolder), { recursive: true, force: true });
  }
}

/** Today's functions. */
export const functionsBench = (runs: number) => packageAndMeasure(PROJECT_ROOT, runs);

/**
 * The functions of git `ref` (a commit from before the SDK was bundled), packaged from a copy of
 * it with this checkout's node_modules, the SDK resolved from there: written to {@link BASELINE_FILE}.
 */
export function recordBaseline(ref: string, runs: number): FunctionsBaseline {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: PROJECT_ROOT }).toString().trim();
  const root = mkdtempSync(join(tmpdir(), `hybridops-baseline-${commit}-`));
  try {
    execFileSync('bash', ['-c', `git archive ${commit} | tar -x -C ${JSON.stringify(root)}`], { cwd: PROJECT_ROOT });
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));
    const baseline: FunctionsBaseline = {
      ref,
      commit,
      date: new Date().toISOString().slice(0, 10),
      node: process.version,
      runs,
      functions: packageAndMeasure(root, runs, join(PROJECT_ROOT, 'node_modules')),
    };
    writeFileSync(BASELINE_FILE, `${JSON.stringify(baseline, null, 1)}\n`);
    return baseline;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const loadBaseline = (): FunctionsBaseline | undefined =>
  existsSync(BASELINE_FILE) ? (JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as FunctionsBaseline) : undefined;
