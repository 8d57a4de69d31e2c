import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRuntime, UsageError } from '#cli/local-runtime';
import { parseScenarioOption } from '#lib/sandbox/scenarios';

/** `--scenario`: one scenario for every server, or one per server. */

const KNOWN = ['joins', 'never-registers', 'stays-not-ready', 'host-offline'];

describe('parseScenarioOption', () => {
  it('reads a bare name (every server) and scenario:server pairs (servers not named join)', () => {
    expect(parseScenarioOption('never-registers', KNOWN)).toEqual({ scenario: 'never-registers', servers: {} });
    expect(parseScenarioOption('never-registers:gpu-node-07,stays-not-ready:gpu-node-03', KNOWN)).toEqual({
      scenario: 'joins',
      servers: { 'gpu-node-07': 'never-registers', 'gpu-node-03': 'stays-not-ready' },
    });
    expect(parseScenarioOption('host-offline, never-registers:gpu-node-07', KNOWN)).toEqual({
      scenario: 'host-offline',
      servers: { 'gpu-node-07': 'never-registers' },
    });
  });

  it.each([
    ['nope', "unknown scenario 'nope'"],
    ['nope:gpu-node-07', "unknown scenario 'nope'"],
    ['never-registers:', "'never-registers:' is not a scenario name or a scenario:server pair"],
    [':gpu-node-07', "':gpu-node-07' is not"],
    ['a:b:c', "'a:b:c' is not"],
    ['never-registers:gpu-node-07,', "'' is not"],
    ['never-registers:gpu-node-07,joins:gpu-node-07', 'two scenarios for gpu-node-07'],
    ['joins,never-registers', "two scenarios for every server ('joins', 'never-registers')"],
  ])('refuses %j, saying what is wrong and listing the scenarios', (option, problem) => {
    const answer = parseScenarioOption(option, KNOWN);

    expect(answer).toHaveProperty('problem');
    const said = (answer as { problem: string }).problem;
    expect(said).toContain(problem);
    expect(said).toContain('scenarios: joins, never-registers, stays-not-ready, host-offline');
  });
});

describe('--scenario on the sandbox', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'hybridops-scenarios-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('keeps the per-server scenarios on the estate, and drops them for a bare name', () => {
    const perServer = localRuntime('sandbox', home, {}, { scenario: 'never-registers:gpu-node-07' });
    expect(perServer.estate?.state).toMatchObject({
      scenario: 'joins',
      serverScenarios: { 'gpu-node-07': 'never-registers' },
    });

    const bare = localRuntime('sandbox', home, {}, { scenario: 'stays-not-ready' });
    expect(bare.estate?.state.scenario).toBe('stays-not-ready');
    expect(bare.estate?.state.serverScenarios).toBeUndefined();
  });

  it('is a usage error (exit 2) when malformed', () => {
    expect(() => localRuntime('sandbox', home, {}, { scenario: 'never-registers:gpu-node-07:x' })).toThrow(UsageError);
  });
});
