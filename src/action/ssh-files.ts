/** The SSH key and known_hosts inputs as files with mode 600 in a private temp folder. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshFiles {
  dir: string;
  key?: string;
  knownHosts?: string;
}

/** Writes the files (nothing when neither input is set). `base` is RUNNER_TEMP on a runner. */
export function writeSshFiles(opts: { key?: string; knownHosts?: string; base?: string }): SshFiles | undefined {
  if (!opts.key && !opts.knownHosts) return undefined;
  const dir = mkdtempSync(join(opts.base || tmpdir(), 'kamal-action-ssh-'));
  chmodSync(dir, 0o700);
  const files: SshFiles = { dir };
  if (opts.key) {
    files.key = join(dir, 'id_key');
    writeFileSync(files.key, opts.key, { mode: 0o600 });
    chmodSync(files.key, 0o600);
  }
  if (opts.knownHosts) {
    files.knownHosts = join(dir, 'known_hosts');
    writeFileSync(files.knownHosts, opts.knownHosts, { mode: 0o600 });
    chmodSync(files.knownHosts, 0o600);
  }
  return files;
}

/** Removes the folder; only folders this action created (by name) are touched. */
export function removeSshFiles(dir: string): void {
  if (!/kamal-action-ssh-[^/\\]+$/.test(dir)) throw new Error(`refusing to remove ${dir}: not a kamal-action SSH folder`);
  rmSync(dir, { recursive: true, force: true });
}
