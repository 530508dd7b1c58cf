/**
 * `kamal` for the job's later steps (`run: kamal app exec ...`): a script in RUNNER_TEMP that
 * runs this action's own bundle with the config file, destination and SSH settings of this
 * step, added to the runner's PATH file. A `kamal` already on PATH (a real Kamal) is never
 * hidden: then only `kamal-action` is added, and the log says so once.
 */
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findOnPath, isShim, writeShims, type CliEntry, type ShimSettings } from '../exec/kamal-shim.js';
import type { ActionCore } from './core.js';
import type { Inputs } from './inputs.js';
import type { SshFiles } from './ssh-files.js';

/** The settings a later step's `kamal` defaults to: this step's config file, destination, key and known_hosts files. */
export function laterStepSettings(inputs: Inputs, cwd: string, files: SshFiles | undefined): ShimSettings {
  return {
    configFile: resolve(cwd, inputs['config-file']),
    destination: inputs.destination,
    hostKeyChecking: inputs['ssh-host-key-checking'],
    knownHosts: files?.knownHosts,
    sshKey: files?.key,
  };
}

export interface KamalOnPath {
  dir: string;
  /** The names written: `kamal` and `kamal-action`, or only `kamal-action` when another `kamal` is on PATH. */
  names: string[];
  /** The other `kamal` found first on PATH, if any. */
  other?: string;
}

/**
 * Writes the scripts into a new folder of RUNNER_TEMP (mode 700) and adds it to PATH for the
 * later steps. Nothing when the core cannot add to PATH.
 */
export function addKamalToPath(
  core: Pick<ActionCore, 'addPath' | 'info'>,
  env: Record<string, string | undefined>,
  settings: ShimSettings,
  entry?: CliEntry,
): KamalOnPath | undefined {
  if (!core.addPath) return undefined;
  const base = env.RUNNER_TEMP || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'kamal-action-bin-'));
  chmodSync(dir, 0o700);
  const found = findOnPath('kamal', env.PATH);
  const other = found && !isShim(found) ? found : undefined;
  const names = other ? ['kamal-action'] : ['kamal', 'kamal-action'];
  writeShims(dir, settings, names, entry);
  core.addPath(dir);
  core.info(
    other
      ? `kamal is already on PATH (${other}), so later steps keep running it; this action's CLI is on PATH for them as kamal-action`
      : "Later steps of this job can run kamal (and kamal-action): this action's CLI, with this step's config file, destination and SSH settings",
  );
  return { dir, names, other };
}
