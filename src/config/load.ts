/**
 * Reading config/deploy.yml (and config/deploy.<destination>.yml) the way
 * Kamal::Configuration.load_raw_config does: each file is rendered as ERB,
 * parsed as YAML, and the destination file is deep-merged over the base.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { UnsafeFileError, readRegularFile } from '../fs-safe.js';
import { renderErbWithLineMap, type ErbEnv } from './erb.js';
import { deepMerge, isPlainObject, subExt } from './ruby.js';
import { parseYaml } from './yaml.js';

/** Files larger than this are refused. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Rendered ERB output larger than this is refused. */
export const MAX_RENDERED_BYTES = 8 * 1024 * 1024;

export interface LoadRawConfigOptions {
  /** Path of the base file, relative to cwd (default `config/deploy.yml`). Messages show it as given. */
  configFile?: string;
  /** Destination: also reads `<configFile without extension>.<destination>.yml`. */
  destination?: string;
  /** Directory relative paths are resolved against (default process.cwd()). */
  cwd?: string;
  /**
   * The environment ERB sees (default process.env). `KAMAL_DESTINATION` is set
   * to the destination (or removed), as Kamal does before loading. Variables
   * a template sets in ENV (`Dotenv.load`) are set in it too (in process.env
   * when none is given), as Kamal's ENV keeps them for the rest of the run.
   */
  env?: ErbEnv;
}

/** `config/deploy.yml` → `config/deploy.staging.yml` (Pathname#sub_ext). */
export function destinationConfigFile(configFile: string, destination: string): string {
  return subExt(configFile, `.${destination}.yml`);
}

/** The environment Kamal's ERB runs with: the given one plus KAMAL_DESTINATION. */
export function kamalEnv(env: ErbEnv | undefined, destination: string | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...(env ?? process.env) };
  if (destination) out.KAMAL_DESTINATION = destination;
  else delete out.KAMAL_DESTINATION;
  return out;
}

/** Reads, renders and parses one configuration file. Returns its root mapping. */
export function loadConfigFile(file: string, opts: { cwd?: string; env?: ErbEnv } = {}): Record<string, unknown> {
  const cwd = opts.cwd ?? process.cwd();
  const full = path.resolve(cwd, file);
  let bytes: Buffer;
  try {
    bytes = readRegularFile(full, MAX_CONFIG_FILE_BYTES, file);
  } catch (e) {
    if (!(e instanceof UnsafeFileError)) throw e;
    if (e.code === 'ENOENT') throw new ConfigError(`Configuration file not found in ${file}`);
    if (e.code === 'NOT_FILE' && fs.existsSync(full) && fs.statSync(full).isDirectory())
      throw new ConfigError(`${file}: is a directory, not a configuration file`);
    throw new ConfigError(e.message);
  }
  const text = decodeText(bytes, file);
  return parseConfigText(text, { file, env: opts.env ?? process.env, cwd });
}

/**
 * Renders and parses configuration text (the part of loadConfigFile after reading).
 * ERB runs in `cwd` (default process.cwd()); variables the template sets in ENV
 * (`Dotenv.load`, rendered by Ruby) are set in `env`, as Kamal's ENV keeps them.
 */
export function parseConfigText(text: string, opts: { file?: string; env: ErbEnv; cwd?: string }): Record<string, unknown> {
  const file = opts.file ?? 'config/deploy.yml';
  const rendered = renderErbWithLineMap(text, opts.env, { file, cwd: opts.cwd });
  applyEnvChanges(opts.env as Record<string, string | undefined>, rendered.envChanges);
  if (Buffer.byteLength(rendered.text) > MAX_RENDERED_BYTES) {
    throw new ConfigError(`${file}: rendered configuration is too large (the limit is ${MAX_RENDERED_BYTES} bytes)`);
  }
  const value = parseYaml(rendered.text, { file, lineMap: rendered.lineMap });
  if (!isPlainObject(value)) {
    throw new ConfigError(`${file}: the configuration must be a YAML mapping of keys to values, not ${describe(value)}`);
  }
  return value;
}

function describe(v: unknown): string {
  if (v === false) return 'an empty document';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a date';
  return `a ${typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string'}`;
}

/** UTF-8 text without a BOM; refuses binary content. */
function decodeText(bytes: Buffer, file: string): string {
  if (bytes.includes(0)) throw new ConfigError(`${file}: is a binary file, not YAML text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`${file}: is not valid UTF-8 text`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * Loads the raw configuration: the base file, and with a destination the
 * destination file deep-merged over it (hashes merge, everything else is
 * replaced). Root keys starting with `x-` are kept; validation ignores them.
 */
export function loadRawConfig(opts: LoadRawConfigOptions = {}): Record<string, unknown> {
  const configFile = opts.configFile ?? 'config/deploy.yml';
  const env = kamalEnv(opts.env, opts.destination);
  const files = [configFile];
  if (opts.destination) files.push(destinationConfigFile(configFile, opts.destination));
  let config: Record<string, unknown> = {};
  const before = { ...env };
  for (const file of files) {
    config = deepMerge(config, loadConfigFile(file, { cwd: opts.cwd, env }));
  }
  // what the ERB set in ENV stays set for the rest of the run (secrets files, commands), as in Kamal
  const changes: Record<string, string | null> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(env)])) {
    if (env[k] !== before[k]) changes[k] = env[k] ?? null;
  }
  applyEnvChanges((opts.env ?? process.env) as Record<string, string | undefined>, changes);
  return config;
}

function applyEnvChanges(env: Record<string, string | undefined>, changes: Record<string, string | null>): void {
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
}
