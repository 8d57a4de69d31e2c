import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/**
 * The directions imports may take, so a workflow can be read, changed or removed on its own:
 * the core (every module of lib/ outside a workflow folder) imports no workflow; a workflow
 * imports the core and itself, never another workflow; the Lambda edge (functions/commons)
 * imports the core; a workflow's handlers (functions/<workflow>) import the edge, the core and
 * their workflow; the API handlers (functions/api) also the workflows they start or read. The
 * sandbox, the CLI, scripts and tests may import anything.
 *
 * lib/node-lifecycle (cordon, drain, the nodeadm commands: the steps both the offboarding and the
 * upgrade workflow run) is part of the core, so both workflows import it and it imports the core
 * only; its handlers, functions/node-lifecycle, import the edge and the core.
 */

const ROOT = join(__dirname, '..', '..');

/** lib/ folder of each workflow, by its functions/ folder (named for its state machine). */
const WORKFLOWS: Record<string, string> = {
  'onboard-node': 'lib/onboarding',
  'offboard-node': 'lib/offboarding',
  'reconcile-network': 'lib/network',
  'nightly-sweep': 'lib/sweep',
  'upgrade-nodes': 'lib/upgrades',
  'onboard-fleet': 'lib/fleets',
};
/**
 * A workflow that runs another's executions as its children may import that one: a fleet's members
 * are onboard-node executions, built by onboarding's own request checks and input.
 */
const COMPOSES: Record<string, string[]> = { 'lib/fleets': ['lib/onboarding'] };
const WORKFLOW_LIBS = Object.values(WORKFLOWS);
/** Handlers of core steps that several workflows run, by functions/ folder. */
const SHARED_STEPS: Record<string, string> = { 'node-lifecycle': 'lib/node-lifecycle' };

type Layer =
  | { kind: 'core' }
  | { kind: 'workflow'; lib: string }
  | { kind: 'edge' }
  | { kind: 'handlers'; lib: string }
  | { kind: 'api' }
  | { kind: 'free' }
  | { kind: 'misplaced' };

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

function layerOf(path: string): Layer {
  if (under(path, 'lib/sandbox')) return { kind: 'free' };
  const workflow = WORKFLOW_LIBS.find((lib) => under(path, lib));
  if (workflow) return { kind: 'workflow', lib: workflow };
  if (under(path, 'lib')) return { kind: 'core' };
  if (under(path, 'functions/commons')) return { kind: 'edge' };
  if (under(path, 'functions/api')) return { kind: 'api' };
  const folder = Object.keys(WORKFLOWS).find((name) => under(path, `functions/${name}`));
  if (folder) return { kind: 'handlers', lib: WORKFLOWS[folder] as string };
  const shared = Object.keys(SHARED_STEPS).find((name) => under(path, `functions/${name}`));
  if (shared) return { kind: 'handlers', lib: SHARED_STEPS[shared] as string };
  if (under(path, 'functions')) return { kind: 'misplaced' };
  return { kind: 'free' };
}

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: Layer, to: Layer): string | undefined {
  const isWorkflow = (l: Layer, lib?: string) => l.kind === 'workflow' && (lib === undefined || l.lib === lib);
  switch (from.kind) {
    case 'free':
      return undefined;
    case 'misplaced':
      return 'a handler must live in functions/<workflow>/, functions/api/ or functions/commons/';
    case 'core':
      return to.kind === 'core' ? undefined : 'the core imports only the core';
    case 'workflow':
      return to.kind === 'core' ||
        isWorkflow(to, from.lib) ||
        (to.kind === 'workflow' && (COMPOSES[from.lib] ?? []).includes(to.lib))
        ? undefined
        : 'a workflow imports the core and itself only (or the workflow it runs as children)';
    case 'edge':
      return to.kind === 'core' || to.kind === 'edge' ? undefined : 'the Lambda edge imports the core only';
    case 'handlers':
      return to.kind === 'core' || to.kind === 'edge' || isWorkflow(to, from.lib)
        ? undefined
        : "a workflow's handlers import the edge, the core and their workflow only";
    case 'api':
      return to.kind === 'core' || to.kind === 'edge' || isWorkflow(to)
        ? undefined
        : 'the API handlers import the edge, the core and the workflows only';
  }
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** Every project module a file imports (statically, dynamically or by require), as root-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((i) => i.fileName)
    .flatMap((spec) => {
      // package.json "imports": `#lib/x` is `./lib/x.ts`, root-relative.
      if (spec.startsWith('#')) return [spec.slice(1)];
      if (!spec.startsWith('.')) return [];
      return [
        relative(ROOT, resolve(ROOT, dirname(file), spec))
          .split(sep)
          .join('/'),
      ];
    });
}

function layeringViolations(files: string[]): string[] {
  return files.flatMap((file) =>
    importsOf(file).flatMap((target) => {
      const why = violation(layerOf(file), layerOf(target));
      return why ? [`${file} imports ${target}: ${why}`] : [];
    }),
  );
}

describe('import directions', () => {
  it('hold for every module of lib/ and functions/', () => {
    const files = [...sourceFiles('lib'), ...sourceFiles('functions')];
    expect(files.length).toBeGreaterThan(100);
    // Aliased imports (package.json "imports") are read too, not only relative ones.
    expect(importsOf('functions/onboard-node/preflight.ts')).toContain('lib/onboarding/preflight');
    expect(layeringViolations(files)).toEqual([]);
  });

  it('are checked: a workflow importing another, or the core importing a workflow, is reported', () => {
    const layers = {
      core: layerOf('lib/errors.ts'),
      network: layerOf('lib/network/apply.ts'),
      onboarding: layerOf('lib/onboarding/preflight.ts'),
      sweepHandler: layerOf('functions/nightly-sweep/merge-sweep.ts'),
      edge: layerOf('functions/commons/task-handler.ts'),
      api: layerOf('functions/api/start-reconcile.ts'),
      sandbox: layerOf('lib/sandbox/estate.ts'),
    };
    expect(violation(layers.network, layers.onboarding)).toBeDefined();
    // The fleet runs onboard-node's executions, so it may import onboarding, and no other workflow.
    expect(violation(layerOf('lib/fleets/submit.ts'), layers.onboarding)).toBeUndefined();
    expect(violation(layerOf('lib/fleets/submit.ts'), layers.network)).toBeDefined();
    expect(violation(layers.onboarding, layerOf('lib/fleets/submit.ts'))).toBeDefined();
    expect(violation(layers.core, layers.network)).toBeDefined();
    expect(violation(layers.core, layers.edge)).toBeDefined();
    expect(violation(layers.edge, layers.onboarding)).toBeDefined();
    expect(violation(layers.sweepHandler, layers.network)).toBeDefined();
    expect(violation(layerOf('functions/preflight.ts'), layers.core)).toBeDefined();
    expect(violation(layers.network, layers.core)).toBeUndefined();
    expect(violation(layers.sweepHandler, layerOf('lib/sweep/merge.ts'))).toBeUndefined();
    expect(violation(layers.api, layers.network)).toBeUndefined();
    expect(violation(layers.sandbox, layers.network)).toBeUndefined();
  });

  it('let both lifecycle workflows import the shared node lifecycle steps, which import the core only', () => {
    const lifecycle = layerOf('lib/node-lifecycle/drain.ts');
    const lifecycleHandler = layerOf('functions/node-lifecycle/drain-node.ts');
    expect(lifecycle).toEqual({ kind: 'core' });
    expect(lifecycleHandler).toEqual({ kind: 'handlers', lib: 'lib/node-lifecycle' });
    expect(violation(layerOf('lib/onboarding/node-config.ts'), lifecycle)).toBeUndefined();
    expect(violation(lifecycleHandler, lifecycle)).toBeUndefined();
    expect(violation(lifecycleHandler, layerOf('functions/commons/task-handler.ts'))).toBeUndefined();
    expect(violation(lifecycle, layerOf('lib/onboarding/preflight.ts'))).toBeDefined();
    expect(violation(lifecycleHandler, layerOf('lib/onboarding/preflight.ts'))).toBeDefined();
  });

  it('keep the Lambda edge out of lib/: no middy, no API Gateway types, no environment reads', () => {
    const edgeInLib = sourceFiles('lib')
      .filter((file) => layerOf(file).kind !== 'free')
      .filter((file) => /@middy\/|from 'aws-lambda'|process\.env/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(edgeInLib).toEqual([]);
  });
});
