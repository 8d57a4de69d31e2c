import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as Interpreter from 'aws-local-stepfunctions';

/**
 * aws-local-stepfunctions 3.0.0 (the only version on the registry), with one bug mended: it strips
 * every backslash from the string any intrinsic function returns, meant to unescape `\'` in a
 * literal argument. That turns `States.JsonToString` of a string holding a quote or a line break
 * into text that is not JSON, where Step Functions returns valid JSON (and the onboarding's
 * undelivered-alert cause is JSON a reader parses). Here a literal argument is unescaped when it
 * is read, as the ASL spec has it, and results are left alone. The module is evaluated from its
 * own file with that change; a release that changes either line fails loudly here.
 */

const file = createRequire(__filename).resolve('aws-local-stepfunctions');
const source = readFileSync(file, 'utf8');
const STRIPS_RESULTS = 'result = result.replaceAll("\\\\", "");';
const READS_LITERAL = 'return arg.slice(1, lastSingleQuote);';
if (!source.includes(STRIPS_RESULTS) || !source.includes(READS_LITERAL)) {
  throw new Error(
    `${file} is not the aws-local-stepfunctions 3.0.0 this project mends (cli/local-stepfunctions.ts); check its intrinsic-function escaping.`,
  );
}
const mended = source
  .replace(STRIPS_RESULTS, '/* results are left as they are (cli/local-stepfunctions.ts) */')
  .replace(READS_LITERAL, String.raw`return arg.slice(1, lastSingleQuote).replace(/\\(['\\])/g, "$1");`);

// Evaluated in this realm (a jest test's, or the CLI's), with its dependencies resolved from its
// own folder and loaded through this module's require, as importing it would.
const resolveFromLibrary = createRequire(file);
const compiled = { exports: {} as Record<string, unknown> };
const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', mended) as (
  ...args: unknown[]
) => void;
evaluate(compiled.exports, (id: string) => require(resolveFromLibrary.resolve(id)), compiled, file, dirname(file));

const interpreter = compiled.exports as unknown as typeof Interpreter;
export const { StateMachine, ExecutionError } = interpreter;
export type { StateMachineDefinition } from 'aws-local-stepfunctions';
