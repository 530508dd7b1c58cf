/** The main step: inputs → masking → SSH files → (rollback lookup, deployment) → the CLI run → outputs, summary, statuses. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kamal } from '../engine/kamal.js';
import { CancelledError } from '../engine/cancel.js';
import { formatError } from '../cli/errors.js';
import { SecretRegistry } from '../secret.js';
import { LOCAL } from '../exec/types.js';
import type { ActionCore } from './core.js';
import { Outputs, State } from './constants.js';
import { InputError, ROLLOUT_COMMANDS, commandArgv, commandRun, getInputs, rollbackVersionInCommand, type Inputs } from './inputs.js';
import { maskAll } from './secrets-input.js';
import { writeSshFiles, type SshFiles } from './ssh-files.js';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from '../config/index.js';
import type { ContextOptions } from '../cli/context.js';
import { GHA_CACHE_VARIABLES, referencedNames, runnerEnv } from './child-env.js';
import { SignedState, stateBase } from './state.js';
import { pendingUndoState } from './cancel-undo.js';
import { ActionReporter, flatSink } from './reporter.js';
import { buildReport, redactDeep, type DeployReport } from './report.js';
import { failureAnnotation, summaryMarkdown } from './summary.js';
import { Deployments, githubRunContext, type DeploymentState } from './deployments.js';
import { versionsOnHosts, type HostVersions, type RunCli } from './versions.js';
import { addKamalToPath, laterStepSettings } from './kamal-path.js';
import { finishDiff } from './diff.js';

/** What the deployments client must do (tests pass a recorder or point GITHUB_API_URL at a local server). */
export interface DeploymentsClient {
  create(d: {
    environment: string;
    task: string;
    payload: { version: string | null; command: string; previous: string | null };
    description?: string;
  }): Promise<number>;
  setStatus(id: number, state: DeploymentState, u?: { environmentUrl?: string; description?: string }): Promise<void>;
}

export interface MainDeps {
  core: ActionCore;
  env: Record<string, string | undefined>;
  runCli: RunCli;
  signal?: AbortSignal;
  now?: () => number;
  /** Defaults to the REST client over GITHUB_API_URL. */
  deployments?: (token: string) => DeploymentsClient | undefined;
}

export interface MainResult {
  exitCode: number;
  report?: DeployReport;
}

/** Every secret the inputs carry, plus the runner's own tokens that the engine's environment receives. */
export function secretValues(inputs: Inputs, env: Record<string, string | undefined>): string[] {
  const values = [...Object.values(inputs.secrets)];
  if (inputs['ssh-private-key']) values.push(inputs['ssh-private-key']);
  if (inputs['github-token']) values.push(inputs['github-token']);
  for (const name of ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_TOKEN']) {
    const v = env[name];
    if (v) values.push(v);
  }
  return values.filter((v) => v.trim() !== '');
}

/**
 * The environment handed to the engine, and through it to every process it starts
 * (hooks, builds, `.kamal/secrets` shells, docker): the runner's environment
 * without INPUT_*, STATE_*, the runner's tokens and the github-token, plus the
 * secrets that the configuration or the secrets files name (`exported`). The build
 * gets the cache service variables separately (gha cache); the SSH settings are
 * options of the run (sshOptions), which the `kamal` of hooks gets from its script.
 */
export function engineEnv(env: Record<string, string | undefined>, inputs: Inputs, exported: Record<string, string> = {}): Record<string, string | undefined> {
  const hidden = [inputs['github-token'], inputs['ssh-private-key']].filter((v): v is string => !!v);
  const out: Record<string, string | undefined> = runnerEnv(env, hidden);
  Object.assign(out, exported);
  return out;
}

/** The SSH settings of the inputs as options of the run: host key checking, the known_hosts and key files written for it. */
export function sshOptions(inputs: Inputs, files: SshFiles | undefined): Partial<ContextOptions> {
  return { hostKeyChecking: inputs['ssh-host-key-checking'], knownHostsFile: files?.knownHosts, sshKeyFile: files?.key };
}

/**
 * A configuration loader that loads once: the versions lookup and the run of one step share
 * the files read, ERB rendered and `.kamal/secrets` resolved (its `$(...)` commands run once).
 */
export function loadOnce(load: (o: LoadConfigOptions) => Promise<LoadedConfig> = loadConfig): (o: LoadConfigOptions) => Promise<LoadedConfig> {
  let first: { key: string; loaded: Promise<LoadedConfig> } | undefined;
  return (opts) => {
    const key = JSON.stringify([opts.cwd, opts.configFile ?? null, opts.destination ?? null]);
    if (first?.key !== key) first = { key, loaded: load(opts) };
    return first.loaded;
  };
}

/** The secrets of the input a run exports: the ones its files name, and the secrets-env list. */
export function exportedSecrets(inputs: Inputs, cwd: string): Record<string, string> {
  const names = Object.keys(inputs.secrets);
  const wanted = referencedNames(names, { cwd, configFile: inputs['config-file'], destination: inputs.destination ?? destinationIn(inputs.command) });
  for (const n of inputs['secrets-env']) {
    if (!(n in inputs.secrets)) throw new InputError('secrets-env', `names '${n}', which the secrets input does not set`);
    wanted.add(n);
  }
  return Object.fromEntries(names.filter((n) => wanted.has(n)).map((n) => [n, inputs.secrets[n]!]));
}

function destinationIn(words: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') return undefined;
    if (w === '-d' || w === '--destination') return words[i + 1];
    if (w.startsWith('--destination=')) return w.slice('--destination='.length);
    if (/^-d./.test(w)) return w.slice(2);
  }
  return undefined;
}

export function workingDirectory(env: Record<string, string | undefined>, inputs: Inputs): string {
  const cwd = resolve(env.GITHUB_WORKSPACE || process.cwd(), inputs['working-directory']);
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    throw new InputError('working-directory', `is not a folder: ${inputs['working-directory']}`);
  }
  return cwd;
}

function redactor(registry: SecretRegistry, k: () => Kamal | undefined): (s: string) => string {
  return (s) => {
    const kamal = k();
    return registry.redact(kamal ? kamal.secrets.redact(s) : s);
  };
}

export async function runMain(deps: MainDeps): Promise<MainResult> {
  const { core, env } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();

  let inputs: Inputs;
  try {
    inputs = getInputs((name) => core.getInput(name));
  } catch (e) {
    core.setFailed(e instanceof Error ? e.message : String(e));
    return { exitCode: 1 };
  }

  // Nothing is printed before every secret is masked.
  const values = secretValues(inputs, env);
  const masked = new Set<string>();
  maskAll(values, (s) => core.setSecret(s), masked);
  const registry = new SecretRegistry();
  for (const v of values) registry.add(v);
  let kamal: Kamal | undefined;
  const redact = redactor(registry, () => kamal);

  let cwd: string;
  let files: SshFiles | undefined;
  let state: SignedState;
  let exported: Record<string, string>;
  try {
    cwd = workingDirectory(env, inputs);
    exported = exportedSecrets(inputs, cwd);
    state = SignedState.create(core, stateBase(env));
    files = writeSshFiles({ key: inputs['ssh-private-key'], knownHosts: inputs['ssh-known-hosts'], base: env.RUNNER_TEMP });
    if (files) state.save(State.SshDir, files.dir);
  } catch (e) {
    core.setFailed(redact(e instanceof Error ? e.message : String(e)));
    return { exitCode: 1 };
  }
  const runEnv = engineEnv(env, inputs, exported);
  // `kamal` (or `kamal-action` beside a real Kamal) for the job's later steps.
  try {
    addKamalToPath(core, env, laterStepSettings(inputs, cwd, files));
  } catch (e) {
    core.warning(`Could not put kamal on PATH for later steps: ${redact(errorMessage(e))}`);
  }
  const name = inputs.command[0]!;
  const rollout = ROLLOUT_COMMANDS.has(name);
  const isRollback = name === 'rollback';

  const reporter = new ActionReporter({
    sink: core,
    redact,
    // -v in the command, or the runner's debug logging (re-run with debug logging, RUNNER_DEBUG=1)
    verbose: inputs.command.includes('-v') || inputs.command.includes('--verbose') || env.RUNNER_DEBUG === '1',
    dryRun: !!inputs['dry-run'],
    onCommand: (host, command) => {
      if (host === LOCAL && /^docker login\b/.test(command) && kamal && !kamal.dryRun) {
        state.save(State.RegistryLogin, kamal.config.registry.server ?? '');
      }
    },
  });
  // Text the CLI prints itself (errors, `config`, `secrets print`) goes to the log as text, redacted.
  const print = (text: string) => {
    const t = redact(text).replace(/\n$/, '');
    if (t !== '') core.info(t);
  };
  // Errors come back to be shown once, as the step's annotation (or its failure message).
  const ssh = sshOptions(inputs, files);
  const cliBase = {
    cwd,
    env: runEnv,
    extraSecrets: exported,
    signal: deps.signal,
    confirm: async () => false,
    out: print,
    err: print,
    reportsErrors: true,
    options: ssh,
    loadConfig: loadOnce(),
  };
  /** Every secret the run resolved (files, adapters, inputs) masked, in all its forms, as soon as it is known. */
  const maskRun = (k: Kamal) => {
    for (const v of values) k.secrets.add(v);
    maskAll(k.secrets.values(), (s) => core.setSecret(s), masked);
  };
  /** The gha build cache needs the runner's cache service variables: only the build gets them, only then. */
  const cacheEnv = (k: Kamal) => {
    let type: string | undefined;
    try {
      type = k.config.builder.cacheType;
    } catch {
      type = undefined;
    }
    if (type !== 'gha' || !k.builderSecretEnv) return;
    const base = k.builderSecretEnv;
    const extra = Object.fromEntries(GHA_CACHE_VARIABLES.filter((n) => env[n]).map((n) => [n, env[n]!]));
    k.builderSecretEnv = () => ({ ...extra, ...base() });
  };

  // Versions on the hosts: needed for a rollback without a version, and for the deployment's payload.
  const ghContext = githubRunContext(env);
  const token = inputs['github-token'];
  const wantDeployment = rollout && !inputs['dry-run'] && !!inputs.environment && !!token;
  let explicitRollback = isRollback ? (rollbackVersionInCommand(inputs) ?? inputs.version) : undefined;
  let onHosts: HostVersions | undefined;
  if (isRollback && !explicitRollback && inputs['dry-run']) {
    core.setFailed(new InputError('version', 'is required for a dry-run rollback (the versions on the hosts are not looked up)').message);
    return { exitCode: 1 };
  }
  if ((isRollback && !explicitRollback) || wantDeployment) {
    core.startGroup('Versions on the hosts');
    try {
      // The listing does not depend on the version, but a context needs one (no git checkout, no version input).
      const lookupVersion = explicitRollback ?? inputs.version ?? env.GITHUB_SHA;
      onHosts = await versionsOnHosts(deps.runCli, {
        ...cliBase,
        options: { ...ssh, configFile: inputs['config-file'], destination: inputs.destination, version: lookupVersion },
        reporter: new ActionReporter({ sink: flatSink(core), redact }),
        onContext: maskRun,
      });
      core.info(`Running: ${onHosts.running ?? '(none)'}; stopped: ${onHosts.stopped.join(', ') || '(none)'}`);
    } catch (e) {
      const text = redact(formatError(e));
      if (isRollback && !explicitRollback) {
        core.endGroup();
        core.setFailed(`Could not find the previous version on the hosts: ${text}`);
        return { exitCode: 1 };
      }
      core.warning(`Could not list the versions on the hosts: ${text}`);
    }
    core.endGroup();
    if (isRollback && !explicitRollback) {
      explicitRollback = onHosts?.stopped[0];
      if (!explicitRollback) {
        core.setFailed(
          `No previous version to roll back to: no stopped container of the primary role${onHosts?.running ? ` besides the running ${onHosts.running}` : ''} is left on the primary host. Pass the version input.`,
        );
        return { exitCode: 1 };
      }
      core.info(`Rolling back to ${explicitRollback}, the newest version still on the hosts`);
    }
  }

  const argv = commandArgv(inputs, { rollbackVersion: explicitRollback });
  const run = commandRun(inputs, { rollbackVersion: explicitRollback });

  // The deployment record.
  let deployment: DeploymentsClient | undefined;
  let deploymentId: number | undefined;
  if (wantDeployment && ghContext && token) {
    try {
      deployment = deps.deployments ? deps.deployments(token) : new Deployments(token, ghContext);
      if (deployment) {
        deploymentId = await deployment.create({
          environment: inputs.environment!,
          task: isRollback ? 'deploy:rollback' : 'deploy',
          payload: {
            version: (isRollback ? explicitRollback : inputs.version) ?? ghContext.ref,
            command: redact(argv.join(' ')),
            previous: onHosts?.running ?? null,
          },
          description: isRollback ? `Rollback to ${explicitRollback}` : `kamal-action ${name}`,
        });
        state.save(State.DeploymentId, String(deploymentId));
        core.info(`Created deployment ${deploymentId} for environment ${inputs.environment}`);
        await deployment.setStatus(deploymentId, 'in_progress', { description: `${name} started` });
      }
    } catch (e) {
      core.warning(`Could not record the GitHub deployment (needs permissions: deployments: write): ${redact(errorMessage(e))}`);
    }
  } else if (rollout && inputs.environment && !inputs['dry-run'] && !token) {
    core.info('No github-token given: no GitHub deployment is recorded');
  }

  // The run.
  const result = await deps.runCli(run.words, {
    ...cliBase,
    options: { ...ssh, ...run.options },
    reporter,
    onContext: (k) => {
      kamal = k;
      maskRun(k);
      cacheEnv(k);
      reporter.attach(k.timeline);
      if (!k.dryRun) {
        k.onLockChange = (held) => state.save(State.LockHeld, String(held));
        k.onUndoChange = (pending) => state.save(State.PendingUndo, pendingUndoState(pending));
        if (k.holdingLock) state.save(State.LockHeld, 'true');
      }
    },
  });
  reporter.close();
  kamal ??= result.kamal;
  const finishedAt = now();
  const error = result.exitCode === 0 ? undefined : (result.error ?? new Error(`exit code ${result.exitCode}`));
  const cancelled = error !== undefined && (deps.signal?.aborted === true || error instanceof CancelledError);
  const errorText = error !== undefined ? redact(formatError(error, kamal?.secrets)) : undefined;

  const report = redactDeep(
    buildReport({
      argv,
      kamal,
      error,
      errorText,
      cancelled,
      startedAt,
      finishedAt,
      previousVersion: onHosts?.running,
      deployment: deploymentId !== undefined ? { id: deploymentId, environment: inputs.environment!, url: inputs['environment-url'] } : undefined,
    }),
    redact,
  );

  if (name === 'diff') return finishDiff({ core, env, inputs, kamal, error, errorText, redact, state, exitCode: result.exitCode });

  // Outputs.
  const set = (key: Outputs, value: string | undefined) => core.setOutput(key, redact(value ?? ''));
  set(Outputs.Version, report.version);
  set(Outputs.PreviousVersion, report.previousVersion);
  set(Outputs.Image, report.image);
  set(Outputs.Hosts, report.hosts.join(','));
  set(Outputs.Roles, report.roles.join(','));
  set(Outputs.DeploymentId, deploymentId !== undefined ? String(deploymentId) : '');
  set(Outputs.DurationSeconds, String(report.durationSeconds));
  set(Outputs.Report, JSON.stringify(report));

  try {
    await core.writeSummary(summaryMarkdown(report));
  } catch (e) {
    core.warning(`Could not write the job summary: ${errorMessage(e)}`);
  }

  if (deployment && deploymentId !== undefined) {
    const ok = error === undefined;
    try {
      await deployment.setStatus(deploymentId, ok ? 'success' : 'failure', {
        environmentUrl: ok ? inputs['environment-url'] : undefined,
        description: ok
          ? `${report.version ?? ''} deployed${report.previousVersion ? ` (was ${report.previousVersion})` : ''}`.trim()
          : cancelled
            ? 'Cancelled'
            : redact(firstLine(errorText ?? 'failed')),
      });
      state.save(State.DeploymentDone, 'true');
    } catch (e) {
      core.warning(`Could not update the GitHub deployment ${deploymentId}: ${redact(errorMessage(e))}`);
    }
  }

  state.save(State.MainDone, 'true');
  if (error !== undefined) {
    const note = failureAnnotation(report);
    core.error(note?.message ?? errorText ?? 'failed', { title: note?.title });
    core.markFailed();
    return { exitCode: result.exitCode || 1, report };
  }
  return { exitCode: 0, report };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
