/**
 * How the sandbox's hosts read a shell script for the nodeadm commands in it, as nodeadm's own
 * command line (flaggy) reads them: the subcommand, its positional values and its flags, long or
 * short, `--flag value` or `--flag=value` (aws/eks-hybrid cmd/nodeadm/{install,init,upgrade,uninstall}).
 * Only what the sandbox simulates is read; the rest of the script is taken to run as written.
 */

export type NodeadmSubcommand = 'install' | 'init' | 'uninstall' | 'upgrade';

export interface NodeadmCall {
  subcommand: NodeadmSubcommand;
  /** Positional values (`upgrade 1.33`: `['1.33']`). */
  positionals: string[];
  /** String flags by long name (`config-source`), the last one given. */
  values: Record<string, string>;
  /** String-slice flags by long name (`skip`), every value, comma-separated ones split. */
  lists: Record<string, string[]>;
  /** Boolean flags by long name (`force`). */
  switches: string[];
  /** Flags nodeadm does not define for this subcommand (flaggy shows its help and exits 2). */
  unknown: string[];
  /** Started in the background (`systemd-run`, `nohup`, `setsid`, a trailing `&`): the script goes on at once. */
  detached: boolean;
  /** Where nodeadm's log (zap, JSON lines, written to stderr) ends up: stdout when the script sends it there. */
  logsTo: 'stdout' | 'stderr';
}

interface FlagSpec {
  short: string;
  long: string;
  kind: 'value' | 'list' | 'switch';
}

/** Each subcommand's flags, as aws/eks-hybrid (v1.0.20) declares them. */
const FLAGS: Record<NodeadmSubcommand, FlagSpec[]> = {
  install: [
    { short: 'p', long: 'credential-provider', kind: 'value' },
    { short: 's', long: 'containerd-source', kind: 'value' },
    { short: 'r', long: 'region', kind: 'value' },
    { short: 'm', long: 'manifest-override', kind: 'value' },
    { short: 't', long: 'timeout', kind: 'value' },
    { short: '', long: 'private-mode', kind: 'switch' },
  ],
  init: [
    { short: 'c', long: 'config-source', kind: 'value' },
    { short: 's', long: 'skip', kind: 'list' },
  ],
  upgrade: [
    { short: 'c', long: 'config-source', kind: 'value' },
    { short: 's', long: 'skip', kind: 'list' },
    { short: 'm', long: 'manifest-override', kind: 'value' },
    { short: 't', long: 'timeout', kind: 'value' },
    { short: '', long: 'private-mode', kind: 'switch' },
  ],
  uninstall: [
    { short: 's', long: 'skip', kind: 'list' },
    { short: 'f', long: 'force', kind: 'switch' },
  ],
};

/** Splits one shell line into words (quotes removed), keeping the control operators as words of their own. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\d?>&\d|&&|\|\||;|&|\||[^\s"';&|]+)/g;
  for (const m of line.replace(/\s#.*$/, '').matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

const ENDS = new Set([';', '&&', '||', '|', '&']);
const LAUNCHERS = new Set(['systemd-run', 'nohup', 'setsid']);

/** Every nodeadm command in the script, in order. */
export function nodeadmCalls(script: readonly string[]): NodeadmCall[] {
  const text = script.join('\n');
  // `exec 2>&1` (or `exec > >(tee ...) 2>&1`) sends every later command's stderr to stdout.
  const globalRedirect = /^\s*exec\b.*2>&1/m.test(text);
  const calls: NodeadmCall[] = [];
  for (const line of text.split('\n')) {
    const w = words(line);
    for (let i = 0; i < w.length; i += 1) {
      const sub = w[i + 1] as NodeadmSubcommand;
      if (!/(^|\/)nodeadm$/.test(w[i] ?? '') || !(sub in FLAGS)) continue;
      let end = i + 2;
      while (end < w.length && !ENDS.has(w[end] ?? '')) end += 1;
      const segmentStart = lastIndexBefore(w, i);
      const launcher = w.slice(segmentStart, i).some((x) => LAUNCHERS.has(x.replace(/^.*\//, '')));
      calls.push({
        ...readFlags(sub, w.slice(i + 2, end)),
        subcommand: sub,
        detached: launcher || w[end] === '&',
        logsTo: globalRedirect || w.slice(i, end).includes('2>&1') ? 'stdout' : 'stderr',
      });
      i = end;
    }
  }
  return calls;
}

/** Where the command that holds word `i` starts (after the previous control operator). */
function lastIndexBefore(w: string[], i: number): number {
  for (let j = i - 1; j >= 0; j -= 1) if (ENDS.has(w[j] ?? '')) return j + 1;
  return 0;
}

function readFlags(
  sub: NodeadmSubcommand,
  args: string[],
): Pick<NodeadmCall, 'positionals' | 'values' | 'lists' | 'switches' | 'unknown'> {
  const specs = FLAGS[sub];
  const call = {
    positionals: [] as string[],
    values: {} as Record<string, string>,
    lists: {} as Record<string, string[]>,
    switches: [] as string[],
    unknown: [] as string[],
  };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (/^\d?>/.test(arg)) {
      if (arg === '>' || /^\d>$/.test(arg)) i += 1; // a redirection and its target
      continue;
    }
    const flag = /^(--?)([^=]+)(?:=(.*))?$/.exec(arg);
    if (!flag) {
      call.positionals.push(arg);
      continue;
    }
    const [, dashes, name, inline] = flag;
    const spec = specs.find((s) => (dashes === '--' ? s.long === name : s.short === name));
    if (!spec) {
      call.unknown.push(arg);
      continue;
    }
    if (spec.kind === 'switch') {
      call.switches.push(spec.long);
      continue;
    }
    const value = inline ?? args[(i += 1)] ?? '';
    if (spec.kind === 'value') call.values[spec.long] = value;
    else call.lists[spec.long] = [...(call.lists[spec.long] ?? []), ...value.split(',').filter(Boolean)];
  }
  return call;
}

/**
 * The file a `--config-source` URI names, as nodeadm resolves it: the URL's host and path joined
 * (aws/eks-hybrid internal/configprovider/factory.go), so `file:///root/nodeConfig.yaml` is
 * `/root/nodeConfig.yaml` and `file://nodeConfig.yaml` the relative `nodeConfig.yaml`. Undefined
 * for another scheme.
 */
export function configFile(uri: string): string | undefined {
  const m = /^file:\/\/(.*)$/.exec(uri);
  return m ? m[1] : undefined;
}
