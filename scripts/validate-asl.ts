/**
 * Validates every statemachines/*.asl.json with asl-validator (as `osls package` does with
 * stepFunctions.validate), and refuses JSONata: the local runner ignores it silently.
 * Usage: npm run validate:asl
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const validator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

const dir = join(__dirname, '..', 'statemachines');
let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.asl.json'))) {
  const text = readFileSync(join(dir, file), 'utf8');
  const { isValid, errorsText } = validator(JSON.parse(text));
  const jsonata = /"QueryLanguage"\s*:\s*"JSONata"/.test(text);
  if (isValid && !jsonata) {
    console.log(`ok   ${file}`);
    continue;
  }
  failed += 1;
  console.error(
    `FAIL ${file}: ${jsonata ? 'uses JSONata, which the local runner ignores; write JSONPath' : errorsText('\n  ')}`,
  );
}
process.exitCode = failed ? 1 : 0;
