import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation is untyped JSON
export type Any = any;

export interface Template {
  Resources: Record<string, { Type: string; Properties: Any; Condition?: string }>;
  Outputs?: Record<string, Any>;
}

export const ROOT = join(__dirname, '..', '..');

/**
 * Packages the service with osls for `stage` (offline, no credentials) into a temporary
 * directory; returns the CloudFormation template it wrote and a function that removes it.
 */
export function packageStack(stage: string): { template: Template; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hybridops-package-'));
  execFileSync(join(ROOT, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, '--package', dir], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      SLS_TELEMETRY_DISABLED: '1',
    },
    stdio: 'pipe',
  });
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { template, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
