/** The SSH key and known_hosts inputs as files with mode 600 in a private temp folder. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_HOST_KEY_CHECKING, ENV_KNOWN_HOSTS, ENV_SSH_KEY } from './constants.js';
import type { HostKeyChecking } from './inputs.js';

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

/** The environment that tells the engine which key, known_hosts and checking mode to use. */
export function sshEnv(files: SshFiles | undefined, checking: HostKeyChecking): Record<string, string> {
  const env: Record<string, string> = { [ENV_HOST_KEY_CHECKING]: checking };
  if (files?.key) env[ENV_SSH_KEY] = files.key;
  if (files?.knownHosts) env[ENV_KNOWN_HOSTS] = files.knownHosts;
  return env;
}

/** Removes the folder; only folders this action created (by name) are touched. */
export function removeSshFiles(dir: string): void {
  if (!/kamal-action-ssh-[^/\\]+$/.test(dir)) throw new Error(`refusing to remove ${dir}: not a kamal-action SSH folder`);
  rmSync(dir, { recursive: true, force: true });
}
