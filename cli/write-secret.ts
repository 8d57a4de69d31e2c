import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` (a NodeConfig: it holds an activation code) readable by its owner only: a new
 * file created with mode 0600 next to `path`, then renamed over it, so the secret is never in a
 * file with wider permissions (an existing file keeps its mode when written in place).
 */
export function writeSecretFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, path);
}
