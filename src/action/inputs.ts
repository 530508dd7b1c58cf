/** The action's inputs, read and validated in one place. */
import { isAbsolute, normalize } from 'node:path';
import { shellSplit } from '../shell.js';
import { SecretsInputError, parseSecretsInput } from './secrets-input.js';
import { unsafeEnvName } from './child-env.js';
import { readVerifyInputs, verifyArgv, type VerifyInputs } from './verify.js';
import { readDiffInputs, type DiffInputs } from './diff.js';
import type { ContextOptions } from '../cli/context.js';

export type HostKeyChecking = 'strict' | 'accept-new';

/** Keyed by the input names of action.yml. */
export interface Inputs extends VerifyInputs, DiffInputs {
  /** The CLI command line, split into words as Kamal splits an alias (`deploy`, `app exec --reuse "bin/rails db:migrate"`). */
  command: string[];
  destination: string | undefined;
  version: string | undefined;
  'config-file': string;
  'ssh-private-key': string | undefined;
  'ssh-known-hosts': string | undefined;
  'ssh-host-key-checking': HostKeyChecking;
  secrets: Record<string, string>;
  /** Names from `secrets` exported to child processes even when no file names them. */
  'secrets-env': string[];
  'github-token': string | undefined;
  environment: string | undefined;
  'environment-url': string | undefined;
  'skip-push': boolean;
  'lock-wait': boolean;
  'dry-run': boolean;
  'working-directory': string;
}

export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}' ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

export type InputReader = (name: string) => string;

/** Commands that roll out a version (they get deployments, outputs of the rollout). */
export const ROLLOUT_COMMANDS = new Set(['setup', 'deploy', 'redeploy', 'rollback']);
const PUSHING_COMMANDS = new Set(['setup', 'deploy', 'redeploy']);

function bool(read: InputReader, name: string, fallback: boolean): boolean {
  const v = read(name).trim();
  if (v === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  throw new InputError(name, 'must be true or false');
}

function optional(read: InputReader, name: string): string | undefined {
  const v = read(name).trim();
  return v === '' ? undefined : v;
}

const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DESTINATION = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Reads every input through `read` (core.getInput in the action) and validates it. Throws InputError. */
export function getInputs(read: InputReader): Inputs {
  const commandText = read('command').trim() || 'deploy';
  let command: string[];
  try {
    command = shellSplit(commandText);
  } catch (e) {
    throw new InputError('command', `is not a valid command line: ${(e as Error).message.replace(/:.*$/s, '')}`);
  }
  if (command.length === 0) command = ['deploy'];
  if (command[0]!.startsWith('-')) {
    throw new InputError('command', `must start with a command name (deploy, rollback, app exec ...), not the option '${command[0]}'`);
  }
  if (command[0] === 'kamal' || command[0] === 'kamal-action') command = command.slice(1);
  if (command.length === 0) throw new InputError('command', 'must name a command (deploy, rollback, app exec ...)');
  refuseTrustOptions(command);
  const workingDir = optional(read, 'working-directory') ?? '.';
  const commandConfig = takeConfigFile(command, workingDir);
  command = commandConfig.words;

  const destination = optional(read, 'destination');
  if (destination !== undefined && !DESTINATION.test(destination)) {
    throw new InputError('destination', `must be a destination name such as 'staging' (letters, digits, '.', '_', '-'), got '${destination}'`);
  }

  const version = optional(read, 'version');
  if (version !== undefined && !DOCKER_TAG.test(version)) {
    throw new InputError('version', 'must be a valid image tag (letters, digits, _ . -, at most 128, not starting with . or -)');
  }

  const configInput = optional(read, 'config-file') ?? DEFAULT_CONFIG_FILE;
  if (commandConfig.file !== undefined && configInput !== DEFAULT_CONFIG_FILE && normalize(configInput) !== normalize(commandConfig.file)) {
    throw new InputError(
      'command',
      `names the config file '${commandConfig.file}' while the config-file input names '${configInput}': use the config-file input only`,
    );
  }
  const configFile = commandConfig.file ?? configInput;

  const rawKey = read('ssh-private-key');
  let sshKey: string | undefined;
  if (rawKey.trim() !== '') {
    sshKey = `${rawKey.replace(/\r\n?/g, '\n').trim()}\n`;
    if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\n/.test(sshKey) || !/\n-----END [A-Z0-9 ]*PRIVATE KEY-----\n$/.test(sshKey)) {
      throw new InputError(
        'ssh-private-key',
        'must be a private key in OpenSSH or PEM format (-----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----)',
      );
    }
  }

  const rawKnown = read('ssh-known-hosts');
  const knownHosts = rawKnown.trim() === '' ? undefined : `${rawKnown.replace(/\r\n?/g, '\n').trim()}\n`;
  if (knownHosts) {
    for (const [i, line] of knownHosts.split('\n').entries()) {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) continue;
      const fields = t.split(/\s+/);
      const offset = fields[0]!.startsWith('@') ? 1 : 0;
      if (fields.length < 3 + offset) {
        throw new InputError('ssh-known-hosts', `line ${i + 1} is not a known_hosts entry (host key-type base64-key), as printed by ssh-keyscan`);
      }
    }
  }

  const checking = optional(read, 'ssh-host-key-checking') ?? 'strict';
  if (checking !== 'strict' && checking !== 'accept-new') {
    throw new InputError('ssh-host-key-checking', `must be strict or accept-new, got '${checking}'`);
  }

  let secrets: Record<string, string>;
  try {
    secrets = parseSecretsInput(read('secrets'));
  } catch (e) {
    if (e instanceof SecretsInputError) throw new InputError('secrets', e.detail);
    throw e;
  }
  for (const name of Object.keys(secrets)) {
    const why = unsafeEnvName(name);
    if (why) throw new InputError('secrets', `cannot set ${why}; leave it out of the secrets or rename it`);
  }
  const secretsEnv = read('secrets-env')
    .split(/[\s,]+/)
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const name of secretsEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InputError('secrets-env', `must be a comma-separated list of names, got '${name}'`);
    const why = unsafeEnvName(name);
    if (why) throw new InputError('secrets-env', `cannot export ${why}`);
  }

  const environment = optional(read, 'environment');
  const environmentUrl = optional(read, 'environment-url');
  if (environmentUrl !== undefined) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(environmentUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new InputError('environment-url', `must be an http(s) URL, got '${environmentUrl}'`);
  }

  const skipPush = bool(read, 'skip-push', false);
  const lockWait = bool(read, 'lock-wait', false);
  const dryRun = bool(read, 'dry-run', false);
  if (skipPush && !PUSHING_COMMANDS.has(command[0]!)) {
    throw new InputError('skip-push', `only applies to setup, deploy and redeploy, not '${command[0]}'`);
  }

  return {
    command,
    destination,
    version,
    'config-file': configFile,
    'ssh-private-key': sshKey,
    'ssh-known-hosts': knownHosts,
    'ssh-host-key-checking': checking,
    secrets,
    'secrets-env': [...new Set(secretsEnv)],
    'github-token': optional(read, 'github-token'),
    environment,
    'environment-url': environmentUrl,
    'skip-push': skipPush,
    'lock-wait': lockWait,
    'dry-run': dryRun,
    'working-directory': workingDir,
    ...readVerifyInputs(read, command[0]!, (input, message) => new InputError(input, message)),
    ...readDiffInputs(read, command[0]!, (input, message) => new InputError(input, message)),
  };
}

const DEFAULT_CONFIG_FILE = 'config/deploy.yml';

/** Options of the CLI that weaken host trust or change identity, and the input that sets each instead. */
const TRUST_OPTIONS: [string, string][] = [
  ['--host-key-checking', 'ssh-host-key-checking'],
  ['--known-hosts', 'ssh-known-hosts'],
  ['--ssh-key', 'ssh-private-key'],
  ['--identity-file', 'ssh-private-key'],
  ['--ssh-option', 'ssh-private-key'],
];

/** Words before `--` (after it everything is an argument). */
function optionWords(words: string[]): string[] {
  const end = words.indexOf('--');
  return end < 0 ? words : words.slice(0, end);
}

function refuseTrustOptions(words: string[]): void {
  for (const w of optionWords(words)) {
    for (const [flag, input] of TRUST_OPTIONS) {
      if (w === flag || w.startsWith(`${flag}=`)) {
        throw new InputError('command', `cannot carry ${flag}: host trust and identity come from the inputs; use the ${input} input instead`);
      }
    }
  }
}

/**
 * Takes `-c FILE` / `--config-file FILE` out of the command words. The file must be
 * inside the working directory's tree (relative, not climbing out with `..`).
 */
function takeConfigFile(words: string[], workingDir: string): { words: string[]; file?: string } {
  const out: string[] = [];
  let file: string | undefined;
  const limit = optionWords(words).length;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let value: string | undefined;
    let matched = false;
    if (i < limit) {
      if (w === '--config-file' || w === '-c') {
        matched = true;
        value = words[++i];
      } else if (w.startsWith('--config-file=')) {
        matched = true;
        value = w.slice('--config-file='.length);
      } else if (/^-[A-Za-z]*c/.test(w) && !w.startsWith('--')) {
        // a cluster of short flags ending in -c (`-vc FILE`) or -c with its value attached (`-cFILE`)
        const at = w.indexOf('c');
        const rest = w.slice(at + 1);
        const before = w.slice(1, at);
        if (before !== '') out.push(`-${before}`);
        matched = true;
        value = rest !== '' ? rest : words[++i];
      }
    }
    if (!matched) {
      out.push(w);
      continue;
    }
    if (value === undefined || value === '') throw new InputError('command', '-c/--config-file needs a file');
    if (isAbsolute(value) || normalize(`${workingDir}/${value}`).split(/[\\/]/)[0] === '..') {
      throw new InputError('command', `cannot use the config file '${value}' outside the workspace; use the config-file input instead`);
    }
    file = value;
  }
  return { words: out, file };
}

/** Flags every invocation shares (the run itself, the rollback lookup and the post step's lock release). */
export function globalFlags(inputs: Inputs): string[] {
  const flags: string[] = ['--config-file', inputs['config-file']];
  if (inputs.destination) flags.push('--destination', inputs.destination);
  return flags;
}

/** The command input's words and the version of the run: a rollback without one gets the newest previous version. */
function commandWords(inputs: Inputs, opts: { rollbackVersion?: string }): { words: string[]; version: string | undefined } {
  const words = [...inputs.command];
  let version = inputs.version;
  if (words[0] === 'rollback') {
    const positional = words.slice(1).filter((w) => !w.startsWith('-'));
    version = positional[0] ?? opts.rollbackVersion ?? inputs.version;
    if (positional.length === 0 && version) words.splice(1, 0, version);
  }
  return { words, version };
}

/** The CLI argv for the run: the command words, then the flags the inputs add. */
export function commandArgv(inputs: Inputs, opts: { rollbackVersion?: string } = {}): string[] {
  const { words, version } = commandWords(inputs, opts);
  const argv = [...words, ...globalFlags(inputs)];
  // A rollback names its version twice: the context then needs no git checkout to know one.
  if (version && !hasFlag(words, '--version')) argv.push('--version', version);
  if (inputs['skip-push'] && !hasFlag(words, '--skip-push', '-P')) argv.push('--skip-push');
  if (inputs['lock-wait'] && !hasFlag(words, '--lock-wait')) argv.push('--lock-wait');
  if (inputs['dry-run'] && !hasFlag(words, '--dry-run')) argv.push('--dry-run');
  argv.push(...verifyArgv(inputs, words));
  return argv;
}

/**
 * The run of the command input as the engine takes it: the command's words (with a rollback's
 * version and the command's own flags the inputs add) and the global options the inputs set,
 * typed, so nothing the inputs hold is spelled as text to be parsed again. commandArgv is the
 * same run as one command line, for people (the deployment's payload, the report).
 */
export function commandRun(inputs: Inputs, opts: { rollbackVersion?: string } = {}): { words: string[]; options: Partial<ContextOptions> } {
  const { words, version } = commandWords(inputs, opts);
  const given = [...words];
  const options: Partial<ContextOptions> = { configFile: inputs['config-file'] };
  if (inputs.destination) options.destination = inputs.destination;
  if (version && !hasFlag(given, '--version')) options.version = version;
  if (inputs['lock-wait']) options.lockWait = true;
  if (inputs['dry-run']) options.plan = true;
  if (inputs['skip-push'] && !hasFlag(given, '--skip-push', '-P')) words.push('--skip-push');
  words.push(...verifyArgv(inputs, given));
  return { words, options };
}

/** The rollback version named in the command line itself (`rollback abc123`), if any. */
export function rollbackVersionInCommand(inputs: Inputs): string | undefined {
  if (inputs.command[0] !== 'rollback') return undefined;
  return inputs.command.slice(1).find((w) => !w.startsWith('-'));
}

function hasFlag(words: string[], ...names: string[]): boolean {
  return words.some((w) => names.some((n) => w === n || w.startsWith(`${n}=`)));
}
