import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { localRuntime } from '#cli/local-runtime';
import { main } from '#cli/main';
import { prepareAndRun } from '#cli/local-run';
import { onboardNode } from '#cli/workflows/onboard-node';
import { logger } from '#lib/logger';

/**
 * The activation code may leave SSM only through the NodeConfig handout (GET .../nodeconfig, or
 * the local run's 0600 file). It must not appear in logs, in any state's input or output (the
 * execution history), in SNS messages, or in what the CLI prints.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
let home: string;
let captured: string[];
const writes = { out: process.stdout.write, err: process.stderr.write };

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-secret-'));
  captured = [];
  logger.setLogLevel('DEBUG');
  const capture = (chunk: unknown) => {
    captured.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
});

afterEach(() => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  logger.setLogLevel('INFO');
  rmSync(home, { recursive: true, force: true });
});

function activationCodes(): string[] {
  const out = join(home, 'out');
  return readdirSync(out).map((id) => {
    const config = parse(readFileSync(join(out, id, 'nodeConfig.yaml'), 'utf8')) as {
      spec: { hybrid: { ssm: { activationCode: string } } };
    };
    return config.spec.hybrid.ssm.activationCode;
  });
}

function outboxText(): string {
  const dir = join(home, 'outbox');
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

describe('the activation code', () => {
  it.each(['joins', 'registers-no-node', 'stays-not-ready'])(
    'stays out of logs, state, history and SNS messages (%s)',
    async (scenario) => {
      const local = localRuntime('sandbox', home, {}, { scenario });
      const out = {
        line: (t: string) => process.stdout.write(`${t}\n`),
        note: (t: string) => process.stdout.write(`${t}\n`),
      };
      const { result } = await prepareAndRun(onboardNode, local, readFileSync(EVENT, 'utf8'), out);

      const [code] = activationCodes();
      expect(code).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const secret = code as string;
      expect(result.history.length).toBeGreaterThan(20);
      expect(JSON.stringify(result.history)).not.toContain(secret);
      expect(JSON.stringify(result.output ?? result.error)).not.toContain(secret);
      expect(captured.join('')).not.toContain(secret);
      expect(captured.join('')).toContain('NodeConfig written to');
      expect(outboxText().length).toBeGreaterThan(0);
      expect(outboxText()).not.toContain(secret);
      // What the sandbox keeps as "AWS" after cleanup: the activation is gone with its code.
      expect(readFileSync(join(home, 'sandbox', 'state.json'), 'utf8')).not.toContain(secret);
    },
  );

  it('is not printed by the CLI, with or without --json', async () => {
    const streams = {
      stdout: { write: (t: string) => captured.push(t) },
      stderr: { write: (t: string) => captured.push(t) },
    };
    expect(await main(['run', 'onboard-node', '--input', EVENT], streams, { HYBRIDOPS_HOME: home })).toBe(0);
    expect(await main(['run', 'onboard-node', '--input', EVENT, '--json'], streams, { HYBRIDOPS_HOME: home })).toBe(0);
    const codes = activationCodes();
    expect(codes).toHaveLength(1); // same clientToken: the same request id, the file rewritten
    expect(captured.join('')).not.toContain(codes[0] as string);
  });
});
