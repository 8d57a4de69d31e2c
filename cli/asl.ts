/**
 * The ASL files as the local runner reads them: serverless-style intrinsics resolved, and every
 * state found with the Map and Parallel states it runs inside.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type StateNode = Record<string, Json>;

/** Replaces `Fn::GetAtt [fn, Arn]` with `lambdaArn(fn)` and `Ref` with what `refs` maps it to. */
export function resolveIntrinsics(node: Json, lambdaArn: (key: string) => string, refs: Record<string, string>): Json {
  if (Array.isArray(node)) return node.map((n) => resolveIntrinsics(n, lambdaArn, refs));
  if (!node || typeof node !== 'object') return node;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') return lambdaArn(getAtt[0]);
  const ref = node.Ref;
  if (typeof ref === 'string') {
    const value = refs[ref];
    if (!value) throw new Error(`The local runner does not know what {"Ref": "${ref}"} stands for.`);
    return value;
  }
  const out: StateNode = {};
  for (const [key, value] of Object.entries(node)) out[key] = resolveIntrinsics(value, lambdaArn, refs);
  return out;
}

export interface FoundState {
  name: string;
  state: StateNode;
  /** The Map and Parallel states it runs inside, innermost last. */
  within: string[];
}

/**
 * Every state, including those nested in Map and Parallel states (ASL names are unique across
 * the whole machine), with the states it is nested in.
 */
export function allStates(definition: StateNode, within: string[] = []): FoundState[] {
  const states = (definition.States ?? {}) as Record<string, StateNode>;
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = [
      ...((state.Branches as StateNode[] | undefined) ?? []),
      ...([state.ItemProcessor, state.Iterator].filter(Boolean) as StateNode[]),
    ];
    return [{ name, state, within }, ...nested.flatMap((n) => allStates(n, [...within, name]))];
  });
}

export const getAttOf = (resource: Json | undefined) =>
  resource && typeof resource === 'object' && !Array.isArray(resource) ? resource['Fn::GetAtt'] : undefined;

/** A JSONPath of the simple `$.a.b` form, as Wait states' SecondsPath uses. */
export function readPath(input: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
      input,
    );
}
