import type { SandboxEstate } from './estate';

/**
 * Which scenario each simulated server follows. A run names one for every server (`--scenario
 * never-registers`, as before), or one per server (`--scenario
 * never-registers:gpu-node-07,no-device-plugin:gpu-node-03`): servers not named follow the run's
 * (`joins` unless a bare name is given too).
 */

/** The scenario `serverName` follows: its own, else the run's (`runScenario`, the estate's by default). */
export function scenarioFor(estate: SandboxEstate, serverName: string, runScenario = estate.state.scenario): string {
  return estate.state.serverScenarios?.[serverName] ?? runScenario;
}

/** What is in force, as one string: changes when the run's scenario or any server's does. */
export function scenariosInForce(estate: SandboxEstate): string {
  const servers = Object.entries(estate.state.serverScenarios ?? {}).map(([server, s]) => `${s}:${server}`);
  return [estate.state.scenario, ...servers.sort()].join(',');
}

export interface ScenarioChoice {
  scenario: string;
  servers: Record<string, string>;
}

/**
 * Reads `--scenario`: comma-separated `scenario:server` pairs and at most one bare scenario name
 * (every server not named). Returns the problem when it is malformed or names a scenario the seed
 * does not have.
 */
export function parseScenarioOption(option: string, known: string[]): ScenarioChoice | { problem: string } {
  const choice: ScenarioChoice = { scenario: 'joins', servers: {} };
  const problems: string[] = [];
  let bare: string | undefined;
  for (const part of option.split(',').map((p) => p.trim())) {
    const pair = /^([^:\s]+):([^:\s]+)$/.exec(part);
    const scenario = pair ? pair[1] : part;
    if (!pair && (part === '' || part.includes(':') || /\s/.test(part))) {
      problems.push(`'${part}' is not a scenario name or a scenario:server pair`);
      continue;
    }
    if (!scenario || !known.includes(scenario)) {
      problems.push(`unknown scenario '${scenario}'`);
      continue;
    }
    if (!pair) {
      if (bare !== undefined) problems.push(`two scenarios for every server ('${bare}', '${scenario}')`);
      bare = scenario;
      choice.scenario = scenario;
      continue;
    }
    const server = pair[2] as string;
    if (choice.servers[server]) problems.push(`two scenarios for ${server}`);
    choice.servers[server] = scenario;
  }
  if (problems.length === 0) return choice;
  return {
    problem: `--scenario ${option}: ${problems.join('; ')}. Give a scenario name, or scenario:server pairs separated by commas; scenarios: ${known.join(', ')}`,
  };
}
