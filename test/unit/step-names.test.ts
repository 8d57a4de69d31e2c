import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import { allStates, getAttOf, type StateNode } from '#cli/asl';

/**
 * One name per step, from the state machine to the code: the Task state `CheckRegistration`
 * invokes the function `checkRegistration` (serverless.yml), whose handler is
 * functions/onboard-node/check-registration.ts, which calls the lib function `checkRegistration`.
 * Each state machine's handlers live in the folder named after its ASL file; the API's in
 * functions/api; the steps both lifecycle workflows (offboarding, upgrades) run, in
 * functions/node-lifecycle: a Task may invoke a function of its own workflow's folder or of that one.
 */

const ROOT = join(__dirname, '..', '..');

interface FunctionConfig {
  handler: string;
  events?: Array<Record<string, unknown>>;
}
const functions = (
  parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as { functions: Record<string, FunctionConfig> }
).functions;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const pascal = (camel: string) => `${camel[0]?.toUpperCase()}${camel.slice(1)}`;

/** The lib/ functions a handler module imports by name. */
function libImports(handlerFile: string): string[] {
  const source = ts.createSourceFile(
    handlerFile,
    readFileSync(join(ROOT, handlerFile), 'utf8'),
    ts.ScriptTarget.ES2022,
  );
  return source.statements.flatMap((s) => {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) return [];
    if (!s.moduleSpecifier.text.startsWith('#lib/')) return [];
    const bindings = s.importClause?.namedBindings;
    return bindings && ts.isNamedImports(bindings) ? bindings.elements.map((e) => e.name.text) : [];
  });
}

/** What is wrong with one function's names, given the folder it belongs in (none when all agree). */
function nameProblems(key: string, folder: string): string[] {
  const fn = functions[key];
  if (!fn) return [`${key}: no such function in serverless.yml`];
  const module = `functions/${folder}/${kebab(key)}`;
  if (fn.handler !== `${module}.handler`) return [`${key}: its handler is ${fn.handler}, not ${module}.handler`];
  const source = readFileSync(join(ROOT, `${module}.ts`), 'utf8');
  if (!libImports(`${module}.ts`).includes(key)) return [`${module}.ts does not import a lib function named ${key}`];
  if (!new RegExp(`\\b${key}\\(`).test(source)) return [`${module}.ts does not call ${key}`];
  return [];
}

const machines = readdirSync(join(ROOT, 'statemachines'))
  .filter((f) => f.endsWith('.asl.json'))
  .map((file) => ({
    name: file.replace('.asl.json', ''),
    definition: JSON.parse(readFileSync(join(ROOT, 'statemachines', file), 'utf8')) as StateNode,
  }));

/** Every Lambda Task state of a state machine, with the function key it invokes. */
const lambdaTasks = (definition: StateNode) =>
  allStates(definition).flatMap(({ name, state }) => {
    const getAtt = getAttOf(state.Resource);
    return state.Type === 'Task' && Array.isArray(getAtt) && typeof getAtt[0] === 'string'
      ? [{ state: name, key: getAtt[0] }]
      : [];
  });

/** The folder of the steps both lifecycle workflows run; their functions may be Tasks of either. */
const SHARED_STEPS = 'node-lifecycle';
const isSharedStep = (key: string) => functions[key]?.handler.startsWith(`functions/${SHARED_STEPS}/`) === true;

/** What is wrong with the names of one state machine's Tasks (none when all agree). */
function taskProblems(machine: string, definition: StateNode): string[] {
  return lambdaTasks(definition).flatMap(({ state, key }) => [
    ...(state === pascal(key) ? [] : [`state ${state} invokes ${key}: the state should be ${pascal(key)}`]),
    ...nameProblems(key, isSharedStep(key) ? SHARED_STEPS : machine),
  ]);
}

/**
 * Functions invoked otherwise than once: a workflow's step by exactly one Task state, a shared
 * step by at least one state machine and once in each, an API handler by none.
 */
function usageProblems(definitions: StateNode[]): string[] {
  const uses = new Map<string, number>();
  const users = new Map<string, number>();
  for (const definition of definitions) {
    const keys = lambdaTasks(definition).map((t) => t.key);
    for (const key of keys) uses.set(key, (uses.get(key) ?? 0) + 1);
    for (const key of new Set(keys)) users.set(key, (users.get(key) ?? 0) + 1);
  }
  return Object.entries(functions).flatMap(([key, fn]) => {
    const api = (fn.events ?? []).some((e) => 'http' in e);
    if (api)
      return [...(uses.has(key) ? [`${key} is both an API handler and a Task`] : []), ...nameProblems(key, 'api')];
    const count = uses.get(key) ?? 0;
    if (!isSharedStep(key)) return count === 1 ? [] : [`${key} is invoked by ${count} Task states, not one`];
    const machinesUsing = users.get(key) ?? 0;
    if (machinesUsing === 0) return [`${key} (functions/${SHARED_STEPS}) is invoked by no state machine`];
    return count === machinesUsing
      ? []
      : [`${key} is invoked by ${count} Task states in ${machinesUsing} state machines`];
  });
}

/** A state machine of Lambda Tasks only, for the checks' own tests. */
const machineOf = (keys: string[]): StateNode =>
  ({
    StartAt: pascal(keys[0] ?? 'none'),
    States: Object.fromEntries(
      keys.map((key, i) => [
        pascal(key),
        {
          Type: 'Task',
          Resource: { 'Fn::GetAtt': [key, 'Arn'] },
          ...(keys[i + 1] ? { Next: pascal(keys[i + 1] as string) } : { End: true }),
        },
      ]),
    ),
  }) as unknown as StateNode;

describe('step names', () => {
  it.each(machines.map((m) => [m.name, m.definition] as const))(
    '%s: each Task state, its function, handler file and lib function share one name',
    (name, definition) => {
      expect(lambdaTasks(definition).length).toBeGreaterThan(0);
      expect(taskProblems(name, definition)).toEqual([]);
    },
  );

  it('every function is one step of one state machine, a step both lifecycle workflows share, or an API handler in functions/api', () => {
    expect(usageProblems(machines.map((m) => m.definition))).toEqual([]);
  });

  it('let a workflow run the shared lifecycle steps, and only those, from another folder', () => {
    expect(isSharedStep('cordonNode')).toBe(true);
    expect(taskProblems('offboard-node', machineOf(['cordonNode', 'drainNode', 'runNodeCommand']))).toEqual([]);
    expect(taskProblems('upgrade-nodes', machineOf(['checkNodeCommand', 'uncordonNode']))).toEqual([]);
    expect(taskProblems('offboard-node', machineOf(['preflight']))).toEqual([
      'preflight: its handler is functions/onboard-node/preflight.handler, not functions/offboard-node/preflight.handler',
    ]);
    const onboard = machines.find((m) => m.name === 'onboard-node')?.definition as StateNode;
    expect(
      usageProblems([onboard, machineOf(['cordonNode']), machineOf(['cordonNode'])]).filter((p) =>
        p.startsWith('cordonNode '),
      ),
    ).toEqual([]);
    expect(usageProblems([onboard, machineOf(['cordonNode'])])).toContainEqual(
      'uncordonNode (functions/node-lifecycle) is invoked by no state machine',
    );
    expect(usageProblems([onboard, onboard])).toContainEqual('preflight is invoked by 2 Task states, not one');
  });

  it('are checked: a state, handler or lib function named otherwise is reported', () => {
    expect(nameProblems('preflight', 'onboard-node')).toEqual([]);
    expect(nameProblems('preflight', 'nightly-sweep')).toEqual([
      'preflight: its handler is functions/onboard-node/preflight.handler, not functions/nightly-sweep/preflight.handler',
    ]);
    expect(nameProblems('noSuchStep', 'onboard-node')).toEqual(['noSuchStep: no such function in serverless.yml']);
    expect(libImports('functions/onboard-node/preflight.ts')).toContain('preflight');
    expect(libImports('functions/onboard-node/preflight.ts')).not.toContain('issueActivation');
  });
});
