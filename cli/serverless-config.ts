import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Reads serverless.yml, the one place that maps function keys to handler files, gives each
 * function its environment, and names each state machine's ASL file. The local runner uses it
 * instead of a second list, so a function added there runs locally too.
 */

export const PROJECT_ROOT = join(__dirname, '..');

interface RawConfig {
  params?: { default?: Record<string, unknown> };
  provider?: { environment?: Record<string, unknown> };
  functions?: Record<
    string,
    { handler: string; environment?: Record<string, unknown>; events?: Array<{ http?: Record<string, unknown> }> }
  >;
  stepFunctions?: { stateMachines?: Record<string, { definition: string; id?: string; name?: string }> };
}

export interface ServerlessConfig {
  /** function key -> module path (relative to the project root, no extension) and export name */
  functions: Record<
    string,
    {
      module: string;
      exportName: string;
      environment: Record<string, string>;
      /** Environment values that are `{ Ref: <LogicalId> }` (a state machine's ARN in AWS): the logical id. */
      refs: Record<string, string>;
      /** Its API Gateway routes (`http` events): path without the leading slash, method lower-case. */
      http: Array<{ path: string; method: string; authorizer?: string }>;
    }
  >;
  /**
   * state machine key (camelCase) -> ASL file, CloudFormation logical id (what `{"Ref": id}` names)
   * and state machine name (for its ARN)
   */
  stateMachines: Record<string, { file: string; id?: string; name?: string }>;
}

/**
 * Resolves the variables the local runner needs: `${sls:stage}`, `${param:x}`,
 * `${opt:x, 'default'}`. Values that are CloudFormation references (objects) are left out: they
 * only exist in AWS.
 */
function resolve(value: unknown, params: Record<string, unknown>, stage: string): string | undefined {
  if (typeof value !== 'string')
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  return value.replace(/\$\{([^}]+)\}/g, (_whole, expr: string) => {
    const [source, rest = ''] = expr.split(/:(.*)/s) as [string, string?];
    if (source === 'sls' && rest === 'stage') return stage;
    if (source === 'param' && rest in params) return String(params[rest]);
    if (source === 'opt') {
      const fallback = /,\s*'([^']*)'/.exec(rest);
      if (fallback) return fallback[1] ?? '';
    }
    throw new Error(`serverless.yml: the local runner cannot resolve \${${expr}}`);
  });
}

const loaded = new Map<string, { mtimeMs: number; config: ServerlessConfig }>();

/** serverless.yml as the local runner reads it for `stage` (parsed again only when the file changed). */
export function loadServerlessConfig(stage: string, file = join(PROJECT_ROOT, 'serverless.yml')): ServerlessConfig {
  const mtimeMs = statSync(file).mtimeMs;
  const key = `${file}\n${stage}`;
  const cached = loaded.get(key);
  if (cached?.mtimeMs === mtimeMs) return cached.config;
  const config = parseServerlessConfig(stage, file);
  loaded.set(key, { mtimeMs, config });
  return config;
}

function parseServerlessConfig(stage: string, file: string): ServerlessConfig {
  // `${file(...)}` and CloudFormation intrinsics are plain strings/objects to the yaml parser.
  const raw = parse(readFileSync(file, 'utf8')) as RawConfig;
  const params = raw.params?.default ?? {};
  const env = (record: Record<string, unknown> = {}) =>
    Object.fromEntries(
      Object.entries(record)
        .map(([k, v]) => [k, resolve(v, params, stage)] as const)
        .filter((entry): entry is readonly [string, string] => entry[1] !== undefined),
    );
  const common = env(raw.provider?.environment);
  const functions: ServerlessConfig['functions'] = {};
  for (const [key, fn] of Object.entries(raw.functions ?? {})) {
    const dot = fn.handler.lastIndexOf('.');
    const refs = Object.entries(fn.environment ?? {}).flatMap(([name, value]) => {
      const ref = (value as { Ref?: unknown } | null)?.Ref;
      return typeof ref === 'string' ? [[name, ref] as const] : [];
    });
    const http = (fn.events ?? []).flatMap(({ http: route }) =>
      route
        ? [
            {
              path: String(route.path ?? '').replace(/^\//, ''),
              method: String(route.method ?? '').toLowerCase(),
              ...(typeof route.authorizer === 'string' ? { authorizer: route.authorizer } : {}),
            },
          ]
        : [],
    );
    functions[key] = {
      module: fn.handler.slice(0, dot),
      exportName: fn.handler.slice(dot + 1),
      environment: { ...common, ...env(fn.environment) },
      refs: Object.fromEntries(refs),
      http,
    };
  }
  const stateMachines: ServerlessConfig['stateMachines'] = {};
  for (const [key, sm] of Object.entries(raw.stepFunctions?.stateMachines ?? {})) {
    const match = /^\$\{file\(\.\/(.+)\)\}$/.exec(sm.definition);
    if (!match?.[1]) throw new Error(`serverless.yml: state machine ${key} must use definition: \${file(./...)}`);
    stateMachines[key] = { file: join(PROJECT_ROOT, match[1]), id: sm.id, name: resolve(sm.name, params, stage) };
  }
  return { functions, stateMachines };
}
