import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCommand, LOCAL_PAIR } from '#cli/api/command';
import { main } from '#cli/main';

/** `hybridops api serve`: its usage errors, and what it prints when it starts. */

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-api-cmd-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    streams: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

it('refuses an unknown api command and a port that is not one, with exit code 2', async () => {
  const unknown = io();
  const badPort = io();

  await expect(main(['api', 'list'], unknown.streams, { HYBRIDOPS_HOME: home })).resolves.toBe(2);
  await expect(main(['api', 'serve', '--port', 'http'], badPort.streams, { HYBRIDOPS_HOME: home })).resolves.toBe(2);
  expect(unknown.stderr()).toContain("unknown api command 'list'");
  expect(badPort.stderr()).toContain("--port must be a port number (0-65535), not 'http'");
});

it('prints where it serves and the local pair it checks signatures with, and stops when told', async () => {
  const out = io();

  const code = await apiCommand('serve', { port: '0' }, out.streams, home, Promise.resolve());

  expect(code).toBe(0);
  expect(out.stdout()).toMatch(/the API on http:\/\/127\.0\.0\.1:\d+ /);
  expect(out.stdout()).toContain(`AWS_ACCESS_KEY_ID=${LOCAL_PAIR.accessKeyId}`);
});
