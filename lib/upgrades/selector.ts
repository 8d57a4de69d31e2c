import { labelKeyProblem, labelValueProblem } from '../domain/kubernetes';

/**
 * Kubernetes label selectors, as `kubectl get nodes -l` takes them (Kubernetes docs, "Labels and
 * Selectors": https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors):
 * comma-separated requirements, all of which must hold. Equality-based `key=value`, `key==value`,
 * `key!=value`; set-based `key in (a,b)`, `key notin (a,b)`, `key` (exists) and `!key`.
 */

export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'doesnotexist' };

export type ParsedSelector = { ok: true; requirements: Requirement[] } | { ok: false; problems: string[] };

/** Splits on the commas between requirements, not those inside a set's parentheses. */
function splitRequirements(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (depth < 0 || depth > 1) return undefined;
    if (c === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += c;
  }
  if (depth !== 0) return undefined;
  parts.push(current.trim());
  return parts;
}

function parseRequirement(text: string): Requirement | string {
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(text);
  const existence = /^(!?)\s*([^=!\s(),]+)$/.exec(text);
  let requirement: Requirement;
  if (set) {
    const values = (set[3] as string).split(',').map((v) => v.trim());
    requirement = { key: set[1] as string, op: set[2] as 'in' | 'notin', values };
  } else if (equality) {
    const op = equality[2] === '!=' ? 'notin' : 'in';
    requirement = { key: equality[1] as string, op, values: [equality[3] as string] };
  } else if (existence) {
    requirement = { key: existence[2] as string, op: existence[1] ? 'doesnotexist' : 'exists' };
  } else {
    return `'${text}' is not a requirement (key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`;
  }
  const keyProblem = labelKeyProblem(requirement.key);
  if (keyProblem) return `in '${text}': label key ${keyProblem}`;
  if ('values' in requirement) {
    for (const value of requirement.values) {
      const problem = labelValueProblem(value);
      if (problem) return `in '${text}': label ${problem}`;
    }
  }
  return requirement;
}

/** Parses a selector, listing every requirement that is malformed. */
export function parseSelector(text: string): ParsedSelector {
  const parts = splitRequirements(text.trim());
  if (!parts) return { ok: false, problems: [`'${text}' has unbalanced or nested parentheses`] };
  const problems: string[] = [];
  const requirements: Requirement[] = [];
  for (const part of parts) {
    if (part === '') {
      problems.push(`'${text}' has an empty requirement (two commas in a row, or one at an end)`);
      continue;
    }
    const parsed = parseRequirement(part);
    if (typeof parsed === 'string') problems.push(parsed);
    else requirements.push(parsed);
  }
  return problems.length ? { ok: false, problems } : { ok: true, requirements };
}

/** Whether a Node's labels satisfy every requirement. */
export function matchesSelector(requirements: Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key] as string);
      case 'notin':
        // As Kubernetes: a Node without the label satisfies `key!=value` and `key notin (...)`.
        return !has || !r.values.includes(labels[r.key] as string);
    }
  });
}
