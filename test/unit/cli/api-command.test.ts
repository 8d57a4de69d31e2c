import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCommand, LOCAL_PAIR } from '#cli/api/command';
import { main } from '#cli/main';
import { cliIo } from '../../helpers/cli-io';

/** `hybridops api serve`: its usage errors, and what it prints when it starts. */

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-api-cmd-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

it('refuses an unknown api command and a port that is not one, with exit code 2', async () => {
  const unknown = cliIo();
  const badPort = cliIo();

  await expect(main(['api', 'list'], unknown.streams, { HYBRIDOPS_HOME: home })).resolves.toBe(2);
  await expect(main(['api', 'serve', '--port', 'http'], badPort.streams, { HYBRIDOPS_HOME: home })).resolves.toBe(2);
  expect(unknown.stderr()).toContain("unknown api command 'list'");
  expect(badPort.stderr()).toContain("--port must be a port number (0-65535), not 'http'");
});

it('prints what a second terminal exports and runs, with the local pair when this shell has no credentials', async () => {
  const out = cliIo();

  const code = await apiCommand('serve', { port: '0' }, out.streams, home, Promise.resolve(), async () => undefined);

  expect(code).toBe(0);
  const url = /the API on (http:\/\/127\.0\.0\.1:\d+) /.exec(out.stdout())?.[1];
  expect(url).toBeDefined();
  expect(out.stdout()).toContain(
    [
      'In a second terminal, in this directory:',
      `  export HYBRIDOPS_API=${url} AWS_REGION=ap-northeast-2`,
      `  export AWS_ACCESS_KEY_ID=${LOCAL_PAIR.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_PAIR.secretAccessKey}`,
      '  npx hybridops nodes add events/onboard-node.json --wait',
    ].join('\n'),
  );
});

it("leaves the local pair as a fallback when this shell's credential chain has credentials", async () => {
  const out = cliIo();
  const shell = { accessKeyId: 'AKIASHELLCREDENTIALS', secretAccessKey: 'shell-secret' };

  await apiCommand('serve', { port: '0' }, out.streams, home, Promise.resolve(), async () => shell);

  expect(out.stdout()).toContain('AKIASHELLCREDENTIALS (arn:aws:iam::');
  expect(out.stdout()).toMatch(/^ {2}export HYBRIDOPS_API=http:\/\/127\.0\.0\.1:\d+ AWS_REGION=ap-northeast-2$/m);
  expect(out.stdout()).not.toMatch(/^ {2}export AWS_ACCESS_KEY_ID/m);
  expect(out.stdout()).toContain(`without them: export AWS_ACCESS_KEY_ID=${LOCAL_PAIR.accessKeyId}`);
  expect(out.stdout()).not.toContain('shell-secret');
});
