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
   * to the destination (or removed), as Kamal does before loading.
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
    if (e.code === 'NOT_FILE' && fs.existsSync(full) && fs.statSync(full).isDirectory()) throw new ConfigError(`${file}: is a directory, not a configuration file`);
    throw new ConfigError(e.message);
  }
  const text = decodeText(bytes, file);
  return parseConfigText(text, { file, env: opts.env ?? process.env });
}

/** Renders and parses configuration text (the part of loadConfigFile after reading). */
export function parseConfigText(text: string, opts: { file?: string; env: ErbEnv }): Record<string, unknown> {
  const file = opts.file ?? 'config/deploy.yml';
  const rendered = renderErbWithLineMap(text, opts.env, file);
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
  for (const file of files) {
    config = deepMerge(config, loadConfigFile(file, { cwd: opts.cwd, env }));
  }
  return config;
}
