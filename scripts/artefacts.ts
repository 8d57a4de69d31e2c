import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { loadServerlessConfig, PROJECT_ROOT } from '#cli/serverless-config';

/**
 * The Lambda deployment packages as `osls package` writes them (serverless-esbuild, the options of
 * serverless.yml `custom.esbuild`), read back: what each function's zip holds, and which AWS SDK
 * clients its bundle carries. Used by the infra tests and `npm run bench`.
 */

/**
 * Runs `osls package` (offline, no credentials) into `out`, of serverless.yml or of `config` (a
 * file beside it). `workFolder` is serverless-esbuild's build folder (serverless.yml
 * `outputWorkFolder`): a packaging of its own never shares one with another that may run at the
 * same time (jest runs test files in parallel).
 */
export function packageService(
  out: string,
  options: { stage?: string; params?: Record<string, string>; workFolder: string; root?: string; config?: string },
): void {
  const params = Object.entries(options.params ?? {}).flatMap(([k, v]) => ['--param', `${k}=${v}`]);
  const config = options.config ? ['--config', options.config] : [];
  execFileSync(
    join(PROJECT_ROOT, 'node_modules', '.bin', 'osls'),
    ['package', '--stage', options.stage ?? 'ci', '--package', out, ...config, ...params],
    {
      cwd: options.root ?? PROJECT_ROOT,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        SLS_TELEMETRY_DISABLED: '1',
        HYBRIDOPS_ESBUILD_WORK_FOLDER: options.workFolder,
      },
      stdio: 'pipe',
    },
  );
}

/** The files of a zip archive (stored or deflated entries, as osls writes them), by name. */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  // End of central directory: the last 22 bytes when there is no archive comment.
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file} is not a zip archive`);
  const entries = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < entries; i += 1) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(data, data + size);
    files.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    at += 46 + skip;
  }
  return files;
}

export interface FunctionArtefact {
  /** The function's key in serverless.yml. */
  key: string;
  /** Its handler module, e.g. `functions/onboard-node/preflight` (the bundle is `<module>.js` in the zip). */
  module: string;
  zipBytes: number;
  js: Buffer;
  /** The source map, as zipped. */
  map: Buffer;
  /** The files the bundle was made from (the source map's `sources`). */
  sources: string[];
  /** The @aws-sdk/client-* packages whose code is in the bundle, from its source map, sorted. */
  sdkClients: string[];
  /**
   * The commands of each client package left in the bundle: esbuild keeps a command only when
   * the function's code can send it (the SDK's ES modules have no side effects), so these are
   * the calls the function makes.
   */
  sdkCommands: Record<string, string[]>;
}

/**
 * The npm package a bundled source file came from: the innermost `node_modules/<package>` of its
 * path (a package another installs under its own node_modules counts as itself).
 */
export function packageOf(source: string): string | undefined {
  const at = source.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const [scope, name] = source.slice(at + 'node_modules/'.length).split('/');
  return scope?.startsWith('@') ? `${scope}/${name}` : scope;
}

/** Each function's artefact in a packaging written to `out` (of the project at `root`). */
export function functionArtefacts(out: string, root = PROJECT_ROOT): FunctionArtefact[] {
  return Object.entries(loadServerlessConfig('ci', join(root, 'serverless.yml')).functions).map(([key, fn]) => {
    const zipFile = join(out, `${key}.zip`);
    const files = readZip(zipFile);
    const js = files.get(`${fn.module}.js`);
    const map = files.get(`${fn.module}.js.map`);
    if (!js || !map) throw new Error(`${zipFile} holds no ${fn.module}.js and its source map`);
    const sources = (JSON.parse(map.toString('utf8')) as { sources: string[] }).sources;
    const sdkClients = [
      ...new Set(sources.map(packageOf).filter((p): p is string => p?.startsWith('@aws-sdk/client-') ?? false)),
    ].sort();
    const sdkCommands: Record<string, string[]> = {};
    for (const source of sources) {
      const pkg = packageOf(source);
      const command = /\/dist-[a-z]+\/commands\/(\w+)Command\.js$/.exec(source)?.[1];
      if (pkg?.startsWith('@aws-sdk/client-') && command) (sdkCommands[pkg] ??= []).push(command);
    }
    for (const commands of Object.values(sdkCommands)) commands.sort();
    return { key, module: fn.module, zipBytes: statSync(zipFile).size, js, map, sources, sdkClients, sdkCommands };
  });
}

/**
 * The installed directory of `name` as Node resolves it from `from` (the nearest
 * node_modules/<name> up the tree).
 */
export function installedPackage(name: string, from = PROJECT_ROOT): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (from ${from})`);
  }
}

/** The version of `name` installed for the project (package-lock.json's), e.g. 3.1162.0. */
export const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(installedPackage(name), 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The @aws-sdk/client-* packages the installed `names` depend on, directly or not (an SDK
 * client's credential chain may carry clients of its own: SSO, STS).
 */
export function sdkClientDependencies(names: string[]): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    const dir = installedPackage(name, from);
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!dep.startsWith('@aws-sdk/') && !dep.startsWith('@smithy/')) continue;
      if (dep.startsWith('@aws-sdk/client-')) found.add(dep);
      visit(dep, dir);
    }
  };
  for (const name of names) visit(name, PROJECT_ROOT);
  return found;
}
