import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Plumbing every handler needs is defined once: the run store a handler uses
 * (functions/commons/run-store.ts), the `{ Error, Cause }` a Catch records (lib/caught-error.ts)
 * and the API's HTTP answers (functions/commons/http-answers.ts). A second spelling of any is a
 * second place to change.
 */

const ROOT = join(__dirname, '..', '..');

function sources(folder: string): Array<{ file: string; text: string }> {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'))
    .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
}

const spelledIn = (pattern: RegExp, files: Array<{ file: string; text: string }>) =>
  files.filter(({ text }) => pattern.test(text)).map(({ file }) => file);

describe('one definition', () => {
  it('of the run store a handler uses: functions/commons/run-store.ts', () => {
    expect(spelledIn(/\bs3Store\(/, sources('functions'))).toEqual(['functions/commons/run-store.ts']);
  });

  it('of the { Error, Cause } a Catch records: lib/caught-error.ts', () => {
    const shape = /Error: z\.string\(\)|\{ Error: string; Cause\?: string \}/;
    const outsideSandbox = [...sources('lib'), ...sources('functions')].filter(
      ({ file }) => !file.startsWith('lib/sandbox/'),
    );
    expect(spelledIn(shape, outsideSandbox)).toEqual(['lib/caught-error.ts']);
  });

  it('of the HTTP answers: functions/commons/http-answers.ts, never a domain module', () => {
    const outsideSandbox = [...sources('lib'), ...sources('functions')].filter(
      ({ file }) => !file.startsWith('lib/sandbox/'),
    );
    expect(spelledIn(/\bstatusCode:/, outsideSandbox)).toEqual(['functions/commons/http-answers.ts']);
  });
});
