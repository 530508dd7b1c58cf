/** The post step: idempotent cleanup after the main step, whatever happened to it. Failures are warnings. */
import { execFile } from 'node:child_process';
import { formatError } from '../cli/errors.js';
import { SecretRegistry } from '../secret.js';
import type { ActionCore } from './core.js';
import { State } from './constants.js';
import { getInputs, globalFlags, type Inputs } from './inputs.js';
import { maskAll } from './secrets-input.js';
import { removeSshFiles, type SshFiles } from './ssh-files.js';
import { ActionReporter, flatSink } from './reporter.js';
import { Deployments, githubRunContext } from './deployments.js';
import { engineEnv, exportedSecrets, loadOnce, secretValues, sshOptions, workingDirectory, type DeploymentsClient } from './run-main.js';
import { runnerEnv } from './child-env.js';
import { SignedState, stateBase } from './state.js';
import { UNDO_BY_HAND, readPendingUndo, undoRun, type PostCliRun } from './cancel-undo.js';
import type { RunCli } from './versions.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PostState {
  lockHeld: boolean;
  sshDir?: string;
  registryLogin?: string;
  deploymentId?: number;
  deploymentDone: boolean;
  mainDone: boolean;
  /** Boots a cancelled rollout left to undo (JSON, checked by cancel-undo.ts). */
  pendingUndo?: string;
}

export function readPostState(getState: (name: string) => string): PostState {
  const id = Number(getState(State.DeploymentId));
  return {
    lockHeld: getState(State.LockHeld) === 'true',
    sshDir: getState(State.SshDir) || undefined,
    registryLogin: getState(State.RegistryLogin) || undefined,
    deploymentId: Number.isInteger(id) && id > 0 ? id : undefined,
    deploymentDone: getState(State.DeploymentDone) === 'true',
    mainDone: getState(State.MainDone) === 'true',
    pendingUndo: getState(State.PendingUndo) || undefined,
  };
}

/**
 * Whether the post step must release the deploy lock: only when this run took
 * it and the main step did not get to release it (it failed, was cancelled or was killed).
 */
export function shouldReleaseLock(state: PostState): boolean {
  return state.lockHeld;
}

/** Whether the deployment still needs its final status (the main step was stopped before giving it one). */
export function shouldFailDeployment(state: PostState): boolean {
  return state.deploymentId !== undefined && !state.deploymentDone;
}

export interface PostDeps {
  core: ActionCore;
  env: Record<string, string | undefined>;
  runCli: RunCli;
  deployments?: (token: string) => DeploymentsClient | undefined;
  /** Runs `docker logout <server>` with the given environment. */
  dockerLogout?: (server: string, env: Record<string, string>) => Promise<void>;
}

function defaultDockerLogout(server: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('docker', server ? ['logout', server] : ['logout'], { timeout: 30_000, env }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`docker logout failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

export async function runPost(deps: PostDeps): Promise<void> {
  const { core, env } = deps;
  // Only state this run's main step saved (and signed) is acted on.
  const opened = SignedState.open(core, stateBase(env));
  const signed = opened.state;
  if (!signed && core.getState(State.LockHeld) + core.getState(State.SshDir) + core.getState(State.RegistryLogin) + core.getState(State.DeploymentId) !== '') {
    core.warning(`Post step: the saved state is ignored: ${opened.problem ?? 'it cannot be verified'}`);
  }
  const tampered = signed ? Object.values(State).filter((n) => signed.tampered(n)) : [];
  if (tampered.length > 0) core.warning(`Post step: ignoring state this run did not save: ${tampered.join(', ')}`);
  const state = readPostState((n) => signed?.get(n) ?? '');

  let inputs: Inputs | undefined;
  try {
    inputs = getInputs((name) => core.getInput(name));
  } catch (e) {
    core.warning(`Post step: ${e instanceof Error ? e.message : String(e)}`);
  }
  const registry = new SecretRegistry();
  if (inputs) {
    const values = secretValues(inputs, env);
    maskAll(values, (s) => core.setSecret(s));
    for (const v of values) registry.add(v);
  }
  const redact = (s: string) => registry.redact(s);

  // A cancelled rollout whose main step was killed before it undid what it started: the previous
  // version is put back first, under the lock this run still holds (KAMAL_LOCK), else its own.
  // The undo and the release share one load of the configuration and its secrets.
  const loadConfig = loadOnce();
  const undo = readPendingUndo(state.pendingUndo);
  if (undo.problem) core.warning(`Post step: ${undo.problem}`);
  if (undo.pending.length > 0) {
    if (!inputs) core.warning(UNDO_BY_HAND);
    else {
      try {
        const undoEnv = state.lockHeld ? { ...env, KAMAL_LOCK: 'true' } : env;
        await releaseLock({ ...deps, env: undoEnv }, inputs, state, redact, undoRun(undo.pending), loadConfig);
      } catch (e) {
        core.warning(`Could not put the previous version back on every host: ${redact(formatError(e))}. ${UNDO_BY_HAND}`);
      }
    }
  }

  if (shouldReleaseLock(state)) {
    if (!inputs) {
      core.warning('The deploy lock taken by this run may still be held: run `kamal-action lock release`');
    } else {
      try {
        await releaseLock(deps, inputs, state, redact, LOCK_RELEASE, loadConfig);
      } catch (e) {
        core.warning(`Could not release the deploy lock: ${redact(formatError(e))}. Run \`kamal-action lock release\``);
      }
    }
  }

  if (shouldFailDeployment(state) && inputs?.['github-token']) {
    try {
      const token = inputs['github-token'];
      const ctx = githubRunContext(env);
      const client = deps.deployments ? deps.deployments(token) : ctx ? new Deployments(token, ctx) : undefined;
      await client?.setStatus(state.deploymentId!, 'failure', {
        description: state.mainDone ? 'The rollout did not finish' : 'The job was cancelled or stopped before the rollout finished',
      });
    } catch (e) {
      core.warning(`Could not update the GitHub deployment ${state.deploymentId}: ${redact(e instanceof Error ? e.message : String(e))}`);
    }
  }

  if (state.registryLogin !== undefined) {
    try {
      const hidden = [inputs?.['github-token'], inputs?.['ssh-private-key']].filter((v): v is string => !!v);
      await (deps.dockerLogout ?? defaultDockerLogout)(state.registryLogin, runnerEnv(env, hidden));
      core.info(`Logged out of ${state.registryLogin || 'the registry'}`);
    } catch (e) {
      core.warning(redact(e instanceof Error ? e.message : String(e)));
    }
  }

  if (state.sshDir) {
    try {
      removeSshFiles(state.sshDir);
    } catch (e) {
      core.warning(`Could not remove the SSH key folder: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  signed?.remove();
}

const LOCK_RELEASE: PostCliRun = {
  title: 'Releasing the deploy lock left by this run',
  argv: (flags, version) => ['lock', 'release', ...flags, ...(version ? ['--version', version] : [])],
};

/** Runs a CLI command for the post step (by default the lock release) with the main step's config, key and secrets. */
async function releaseLock(
  deps: PostDeps,
  inputs: Inputs,
  state: PostState,
  redact: (s: string) => string,
  run: PostCliRun,
  loadConfig: ReturnType<typeof loadOnce>,
): Promise<void> {
  const { core, env } = deps;
  const cwd = workingDirectory(env, inputs);
  // The key files are still there: they are removed after this.
  const files: SshFiles | undefined = state.sshDir
    ? {
        dir: state.sshDir,
        key: existsSync(join(state.sshDir, 'id_key')) ? join(state.sshDir, 'id_key') : undefined,
        knownHosts: existsSync(join(state.sshDir, 'known_hosts')) ? join(state.sshDir, 'known_hosts') : undefined,
      }
    : undefined;
  core.startGroup(run.title);
  const reporter = new ActionReporter({ sink: flatSink(core), redact });
  try {
    // The release does not depend on the version, but a context needs one (no git checkout, no version input).
    const version = inputs.version ?? env.GITHUB_SHA;
    const exported = exportedSecrets(inputs, cwd);
    const print = (text: string) => {
      const t = redact(text).replace(/\n$/, '');
      if (t !== '') core.info(t);
    };
    const r = await deps.runCli(run.argv(globalFlags(inputs), version), {
      cwd,
      env: engineEnv(env, inputs, exported),
      options: sshOptions(inputs, files),
      loadConfig,
      extraSecrets: exported,
      reporter,
      out: print,
      err: print,
      // the error is shown once, in the warning the caller writes
      reportsErrors: true,
      confirm: async () => false,
    });
    if (r.exitCode !== 0) throw r.error ?? new Error(`${run.argv([], undefined).slice(0, 2).join(' ')} exited with ${r.exitCode}`);
  } finally {
    core.endGroup();
  }
}
