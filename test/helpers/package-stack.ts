import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageService } from '#scripts/artefacts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation is untyped JSON
export type Any = any;

export interface Template {
  Resources: Record<string, { Type: string; Properties: Any; Condition?: string }>;
  Outputs?: Record<string, Any>;
}

export const ROOT = join(__dirname, '..', '..');

/**
 * Packages the service with osls for `stage` (offline, no credentials) into a temporary
 * directory, building in a folder of its own (jest runs test files side by side); returns the
 * CloudFormation template it wrote and a function that removes both.
 */
export function packageStack(stage: string): { template: Template; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hybridops-package-'));
  // serverless-esbuild's build folder, under the project (.gitignore: .esbuild-*/).
  const workFolder = `.esbuild-${stage}-${process.pid}`;
  packageService(dir, { stage, workFolder });
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return {
    template,
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(ROOT, workFolder), { recursive: true, force: true });
    },
  };
}
