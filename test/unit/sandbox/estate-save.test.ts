import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeActivationsCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { openSandbox } from '#lib/sandbox/index';
import { freezeTimeAt } from '../../helpers/frozen-time';

/**
 * The sandbox's state file: written after each call that changed the estate, and left alone by
 * a call that changed nothing (a fleet's run reads far more than it changes, and the file grows
 * with its servers).
 */

freezeTimeAt(new Date('2026-11-22T06:00:00.000Z'));

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-estate-save-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const stateFile = () => join(home, 'sandbox', 'state.json');

it('does not write the state file again for a call that changed nothing', async () => {
  const estate = openSandbox(home, { reset: true });
  const ssm = estate.clients().ssm;
  await ssm.send(new DescribeActivationsCommand({}));
  const before = statSync(stateFile()).ino; // each write replaces the file (write, then rename)

  await ssm.send(new DescribeActivationsCommand({}));

  expect(statSync(stateFile()).ino).toBe(before);
});

it('writes it after a call that changed the estate', async () => {
  const estate = openSandbox(home, { reset: true });
  const ssm = estate.clients().ssm;
  await ssm.send(new DescribeActivationsCommand({}));

  await ssm.send(new PutParameterCommand({ Name: '/hybridops/test/written', Type: 'String', Value: 'yes' }));

  const saved = JSON.parse(readFileSync(stateFile(), 'utf8')) as { parameters: Record<string, { value: string }> };
  expect(saved.parameters['/hybridops/test/written']?.value).toBe('yes');
});
