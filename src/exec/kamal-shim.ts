/**
 * `kamal` on the PATH of hooks, of `.kamal/secrets` shells and of a workflow's later steps:
 * a small sh script that runs this project's CLI with the Node binary running now and the
 * same entry (the bundle's dist/cli/index.js, or src/cli/main.ts through tsx from source),
 * with the running command's config file, destination and SSH settings as defaults.
 *
 * The CLI reads those defaults from KAMAL_ACTION_* variables when the flag is not given
 * (context.ts, ssh-options.ts), so a hook running `kamal proxy boot_config set ...` acts
 * on the same project, destination and hosts with the same host-key trust.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { quote } from '../shell.js';
import { findOnPath } from './path-search.js';

export { findOnPath };

/** The variables the CLI reads as defaults for its flags, by setting. */
export const SHIM_ENV = {
  configFile: 'KAMAL_ACTION_CONFIG_FILE',
  destination: 'KAMAL_ACTION_DESTINATION',
  hostKeyChecking: 'KAMAL_ACTION_HOST_KEY_CHECKING',
  knownHosts: 'KAMAL_ACTION_KNOWN_HOSTS',
  sshKey: 'KAMAL_ACTION_SSH_KEY',
} as const;

export type ShimSettings = { [K in keyof typeof SHIM_ENV]?: string };

/** The second line of every script written here; how an earlier `kamal` of ours is told from a real one. */
export const SHIM_MARKER = '# kamal-action shim';

/** Nested runs (a hook running kamal whose hook runs kamal...) stop at this depth. */
export const MAX_SHIM_DEPTH = 8;

/** How to start this project's CLI: a program and the arguments before the user's. */
export interface CliEntry {
  command: string;
  args: string[];
}

/**
 * The CLI entry for the code running now. From a bundle (dist/cli or dist/action)
 * it is dist/cli/index.js; from source (tests, `node --import tsx`) it is src/cli/main.ts
 * loaded through tsx.
 */
export function cliEntry(moduleFile: string = fileURLToPath(import.meta.url), execPath: string = process.execPath): CliEntry {
  if (moduleFile.endsWith('.ts')) {
    const src = dirname(moduleFile);
    const loader = join(dirname(dirname(src)), 'node_modules', 'tsx', 'dist', 'loader.mjs');
    return { command: execPath, args: ['--import', pathToFileURL(loader).href, join(dirname(src), 'cli', 'main.ts')] };
  }
  return { command: execPath, args: [join(dirname(dirname(moduleFile)), 'cli', 'index.js')] };
}

/** The settings of a run, with the file paths made absolute (hooks and later steps may run elsewhere). */
export function shimSettings(
  opts: { configFile?: string; destination?: string; hostKeyChecking?: string; knownHostsFile?: string; sshKeyFile?: string },
  env: Record<string, string | undefined>,
  cwd: string,
): ShimSettings {
  const abs = (p: string | undefined) => (p ? resolve(cwd, p) : undefined);
  return {
    configFile: abs(opts.configFile ?? (env[SHIM_ENV.configFile] || undefined) ?? 'config/deploy.yml'),
    destination: opts.destination ?? (env[SHIM_ENV.destination] || undefined),
    hostKeyChecking: opts.hostKeyChecking ?? (env[SHIM_ENV.hostKeyChecking] || undefined),
    knownHosts: abs(opts.knownHostsFile ?? (env[SHIM_ENV.knownHosts] || undefined)),
    sshKey: abs(opts.sshKeyFile ?? (env[SHIM_ENV.sshKey] || undefined)),
  };
}

/**
 * The script: exports every setting (or unsets it, so an outer value does not leak in),
 * counts the nesting depth, then execs the CLI with the arguments given.
 */
export function shimScript(settings: ShimSettings, entry: CliEntry = cliEntry()): string {
  const lines = ['#!/bin/sh', SHIM_MARKER];
  for (const key of Object.keys(SHIM_ENV) as (keyof typeof SHIM_ENV)[]) {
    const name = SHIM_ENV[key];
    const value = settings[key];
    lines.push(value ? `export ${name}=${quote(value)}` : `unset ${name}`);
  }
  lines.push(
    'KAMAL_ACTION_SHIM_DEPTH=$((${KAMAL_ACTION_SHIM_DEPTH:-0} + 1))',
    `if [ "$KAMAL_ACTION_SHIM_DEPTH" -gt ${MAX_SHIM_DEPTH} ]; then`,
    `  echo "kamal: nested more than ${MAX_SHIM_DEPTH} deep (a hook or .kamal/secrets running kamal that runs it again?)" >&2`,
    '  exit 1',
    'fi',
    'export KAMAL_ACTION_SHIM_DEPTH',
    `exec ${[entry.command, ...entry.args].map(quote).join(' ')} "$@"`,
  );
  return `${lines.join('\n')}\n`;
}

/** Writes the executables `names` into `dir` (mode 700). Returns their paths. */
export function writeShims(dir: string, settings: ShimSettings, names: readonly string[] = ['kamal'], entry: CliEntry = cliEntry()): string[] {
  const text = shimScript(settings, entry);
  return names.map((name) => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o700 });
    chmodSync(file, 0o700);
    return file;
  });
}

/** `dir` first on a PATH (the shell's default search path when there is none). */
export function pathWith(dir: string, path: string | undefined): string {
  return `${dir}${delimiter}${path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`;
}

/** Is `file` a script written here? */
export function isShim(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').slice(0, 200).split('\n')[1] === SHIM_MARKER;
  } catch {
    return false;
  }
}

const created = new Set<string>();
let cleanupInstalled = false;

function removeAtExit(dir: string): void {
  created.add(dir);
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => {
    for (const d of created) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * The `kamal` of one run: written on first use into a private temp folder (mode 700),
 * removed when the process exits.
 */
export class KamalShim {
  #dir: string | undefined;

  constructor(
    readonly settings: ShimSettings,
    private readonly entry: CliEntry = cliEntry(),
    private readonly base: string = tmpdir(),
  ) {}

  /** The folder holding `kamal` (and `kamal-action`), created now if needed. */
  dir(): string {
    if (this.#dir && existsSync(this.#dir)) return this.#dir;
    mkdirSync(this.base, { recursive: true });
    const dir = mkdtempSync(join(this.base, 'kamal-shim-'));
    chmodSync(dir, 0o700);
    removeAtExit(dir);
    writeShims(dir, this.settings, ['kamal', 'kamal-action'], this.entry);
    this.#dir = dir;
    return dir;
  }

  /** The `kamal` executable. */
  get kamal(): string {
    return join(this.dir(), 'kamal');
  }

  /** Removes the folder now (it is written again on next use). */
  dispose(): void {
    if (!this.#dir) return;
    rmSync(this.#dir, { recursive: true, force: true });
    created.delete(this.#dir);
    this.#dir = undefined;
  }
}
