import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSandbox } from '#lib/sandbox/index';
import { API_HELP, apiCommand } from './api/command';
import { CHAOS_HELP, chaosCommand } from './chaos/command';
import { CLIENT_HELP, type ClientDeps, clientCommand } from './client/commands';
import { hybridopsHome } from '#lib/sandbox/estate';
import { displayPath } from './display';
import { type EstateName, localRuntime, UsageError } from './local-runtime';
import { runPrepared } from './local-run';
import type { RunEvent, RunResult } from './runner';
import { WORKFLOWS } from './workflows/index';
import type { Output } from './workflows/types';

const HELP = `hybridops: run eks-hybrid-ops workflows locally, with the real ASL and handlers, and call the deployed API

Usage:
  hybridops run <workflow> --input <file> [--estate sandbox|aws] [--scenario <name>|<name>:<server>,...] [--json] [--verbose]
  hybridops chaos --workflow <workflow> [--runs N] [--seed S] [--json]
  hybridops sandbox reset
  hybridops nodes|fleets|upgrades <verb> ... --api <url> [--wait] [--json]   (below)
  hybridops api serve [--port 8080]
  hybridops --help

Workflows: ${Object.keys(WORKFLOWS).join(', ')}

Options:
  --input <file>     the workflow input (onboard-node: the body of POST /nodes;
                     offboard-node: {"node": "<name>"} and the options of DELETE /nodes/{node};
                     reconcile-network: {"mode": "plan"|"apply"}, config/sandbox.yaml on the sandbox;
                     nightly-sweep: {"trigger": "manual"}; upgrade-nodes: the body of POST /upgrades;
                     onboard-fleet: the body of POST /fleets)
  --estate sandbox   (default) the built-in simulator of AWS and the on-prem servers, kept under
                     $HYBRIDOPS_HOME (default .hybridops/); no AWS account needed
  --estate aws       the real account, through the default AWS credential chain; needs
                     HYBRIDOPS_ALERT_TOPIC_ARN (and AWS_REGION)
  --scenario <name>  how the simulated on-prem servers behave: joins (default),
                     never-registers, stays-not-ready, registers-no-node; after the join:
                     host-offline, drain-blocked, uninstall-fails, upgrade-fails; or per
                     server: never-registers:gpu-node-07,stays-not-ready:gpu-node-03
                     (servers not named follow joins)
  --json             print one JSON object: status, states visited, output, error
  --verbose          show the functions' logs

chaos runs the workflow again and again on fresh sandbox estates with seeded random faults and
checks the invariants operators rely on after each run (hybridops chaos --help).

${CLIENT_HELP}
Exit codes: 0 the execution succeeded, 1 it failed, 2 the input was rejected or the command misused.
The API commands: 0 accepted or succeeded, 1 failed or refused (403, 409, 410, 5xx, unreachable),
2 a 400 or 404 or the command misused.
`;

export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

export async function main(
  argv: string[],
  io: Streams,
  env: NodeJS.ProcessEnv = process.env,
  client: ClientDeps = {},
): Promise<number> {
  try {
    return await dispatch(argv, io, env, client);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`hybridops: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function dispatch(argv: string[], io: Streams, env: NodeJS.ProcessEnv, client: ClientDeps): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${HELP}`);
  }
  const { values, positionals } = parsed;
  if ((values.help && positionals[0] !== 'chaos' && positionals[0] !== 'api') || positionals.length === 0) {
    (positionals.length === 0 && !values.help ? io.stderr : io.stdout).write(HELP);
    return values.help ? 0 : 2;
  }
  const [command, subject] = positionals;
  if (command === 'chaos') {
    if (values.help) {
      io.stdout.write(CHAOS_HELP);
      return 0;
    }
    return chaosCommand(values, io);
  }
  if (command === 'nodes' || command === 'fleets' || command === 'upgrades') {
    return clientCommand(command, subject, positionals[2], values, io, env, client);
  }
  const home = hybridopsHome(env);
  if (command === 'api') {
    if (values.help) {
      io.stdout.write(API_HELP);
      return 0;
    }
    return apiCommand(subject, values, io, home);
  }
  if (command === 'sandbox' && subject === 'reset') {
    const estate = openSandbox(home, { reset: true });
    io.stdout.write(
      `sandbox estate reseeded under ${home} (${estate.seed.clusters.length} cluster(s), scenario ${estate.state.scenario})\n`,
    );
    return 0;
  }
  if (command !== 'run' || !subject) throw new UsageError(`unknown command '${positionals.join(' ')}'\n\n${HELP}`);
  const workflow = WORKFLOWS[subject];
  if (!workflow) throw new UsageError(`unknown workflow '${subject}'; known: ${Object.keys(WORKFLOWS).join(', ')}`);
  if (!values.input) throw new UsageError('run needs --input <file>');
  const estateName = (values.estate ?? 'sandbox') as EstateName;
  if (estateName !== 'sandbox' && estateName !== 'aws')
    throw new UsageError(`--estate must be sandbox or aws, not '${estateName}'`);
  if (values.scenario && estateName !== 'sandbox') throw new UsageError('--scenario only applies to --estate sandbox');

  let body: string;
  try {
    body = readFileSync(values.input, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --input ${values.input}: ${(error as Error).message}`);
  }
  const json = Boolean(values.json);
  const out: Output = {
    line: (text) => (json ? undefined : io.stdout.write(`${text}\n`)),
    note: (text) => (json ? undefined : io.stdout.write(`  ${text}\n`)),
  };
  const local = localRuntime(estateName, home, env, { scenario: values.scenario });
  const prepared = await workflow.prepare(body, local);
  if (!prepared.ok) {
    io.stderr.write(`hybridops: ${values.input} was rejected; nothing was started:\n`);
    for (const problem of prepared.problems) io.stderr.write(`  - ${problem}\n`);
    if (json) io.stdout.write(`${JSON.stringify({ status: 'REJECTED', problems: prepared.problems })}\n`);
    return 2;
  }
  const where = local.estate ? `the sandbox estate (scenario ${local.estate.state.scenario})` : 'AWS';
  out.line(`hybridops: ${workflow.name} on ${where}`);
  out.line(prepared.banner);
  const published = local.estate?.outbox.length ?? 0;
  const entered = new Map<string, number>();
  const result = await runPrepared(workflow, local, prepared.input, {
    out,
    onEvent:
      workflow.progress?.(out, prepared.input) ??
      ((event: RunEvent) => {
        if (event.type === 'entered') {
          entered.set(event.state, event.at);
          out.line(`  -> ${event.state}`);
        } else if (event.type === 'exited') {
          out.line(`  <- ${event.state} (${event.at - (entered.get(event.state) ?? event.at)} ms)`);
        } else if (event.type === 'failed') out.line(`  xx ${event.state}: ${event.error}`);
        else if (event.type === 'retried') out.line(`  .. ${event.state}: retry ${event.attempt}`);
        else if (event.type === 'caught') out.line(`  => ${event.state}: caught, cleaning up`);
      }),
  });
  const alerts = local.estate?.outbox.slice(published) ?? [];
  workflow.summarize(result, out, alerts);
  const metrics = result.metrics ?? [];
  if (metrics.length && local.estate?.home) {
    const file = join(local.estate.home, 'metrics', `${result.executionName}.jsonl`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
    out.line(`  metrics: ${metricNames(metrics)} (EMF written to ${displayPath(file)})`);
  }
  if (alerts.length && local.estate?.home) {
    out.line(`  ${alerts.length} SNS message(s) written to ${displayPath(join(local.estate.home, 'outbox'))}/`);
  }
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ status: result.status, states: result.visited, output: (workflow.output ? workflow.output(result) : result.output) ?? null, error: result.error ?? null, alerts })}\n`,
    );
  }
  return result.status === 'SUCCEEDED' ? 0 : 1;
}

/** `OnboardingsJoined=1 PhaseDuration[6]`: each metric the run emitted, with its value or count of values. */
function metricNames(documents: NonNullable<RunResult['metrics']>): string {
  const values = new Map<string, number[]>();
  for (const d of documents) {
    for (const m of d._aws.CloudWatchMetrics.flatMap((c) => c.Metrics)) {
      const v = (d as Record<string, unknown>)[m.Name];
      values.set(m.Name, [...(values.get(m.Name) ?? []), ...(Array.isArray(v) ? v : [v]).map(Number)]);
    }
  }
  return [...values].map(([name, v]) => (v.length === 1 ? `${name}=${v[0]}` : `${name}[${v.length}]`)).join(' ');
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      input: { type: 'string' },
      estate: { type: 'string' },
      scenario: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      workflow: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      api: { type: 'string' },
      region: { type: 'string' },
      stage: { type: 'string' },
      out: { type: 'string' },
      wait: { type: 'boolean' },
      status: { type: 'string' },
      limit: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
