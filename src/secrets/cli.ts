/**
 * `kamal secrets fetch`, `extract` and `print` as Kamal 2.12's Kamal::Cli::Secrets runs them:
 * the same output (`puts`), the same messages, the same exit codes.
 */
import { REDACTED } from '../secret.js';
import { fetchSecretsJson, type FetchSecretsOptions } from './adapters/index.js';
import { isObject, rubyJsonParse, RubyFloat, type JsonValue } from './adapters/ruby-json.js';
import { isBlank, noMethodForNil, RubyError, rubyInspect, runtimeError, shellescape, isTruthy } from './adapters/ruby.js';
import { lookupAdapter } from './adapters/index.js';

/** Ruby `puts`: a newline unless the text already ends with one; an array prints one line per element. */
export function rubyPuts(value: JsonValue): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '\n';
    return value.map((v) => rubyPuts(v)).join('');
  }
  const text = rubyToS(value);
  return text.endsWith('\n') ? text : `${text}\n`;
}

function rubyToS(v: JsonValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || v instanceof RubyFloat) return String(v);
  return rubyInspectValue(v);
}

/** Ruby 3.4 `inspect` of parsed JSON (`{"a" => 1}`). */
function rubyInspectValue(v: JsonValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return rubyInspect(v);
  if (Array.isArray(v)) return `[${v.map(rubyInspectValue).join(', ')}]`;
  if (isObject(v)) return v.size === 0 ? '{}' : `{${[...v].map(([k, x]) => `${rubyInspect(k)} => ${rubyInspectValue(x)}`).join(', ')}}`;
  return String(v);
}

export interface SecretsFetchArgs {
  adapter: string;
  account?: string;
  from?: string;
  names: string[];
  /** Kamal's hidden `--inline`: the JSON shell-escaped, returned rather than printed. */
  inline?: boolean;
}

export type SecretsFetchDeps = Omit<FetchSecretsOptions, 'adapter' | 'account' | 'from' | 'names'>;

/**
 * `kamal secrets fetch`. Returns what Kamal prints (`puts`): the JSON and a newline, or for an
 * adapter that needs `--account` without one, the message (and Kamal still exits 0).
 * With `inline`, the shell-escaped JSON without a newline.
 */
export function secretsFetch(args: SecretsFetchArgs, deps: SecretsFetchDeps): string {
  const adapter = lookupAdapter(args.adapter);
  if (adapter.requiresAccount && isBlank(args.account)) return "No value provided for required options '--account'\n";
  const json = fetchSecretsJson({ ...deps, adapter: args.adapter, account: args.account, from: args.from, names: args.names });
  return args.inline ? shellescape(json) : `${json}\n`;
}

/** The value `kamal secrets extract NAME SECRETS` finds: under NAME, or the first key ending in `/NAME`. */
export function extractSecretValue(name: string, secrets: string): JsonValue {
  const parsed = rubyJsonParse(secrets);
  let value: JsonValue | undefined;
  if (isObject(parsed)) {
    value = parsed.get(name);
    if (!isTruthy(value)) value = [...parsed].find(([k]) => k.endsWith(`/${name}`))?.[1];
  } else if (parsed === null || typeof parsed === 'boolean') {
    throw parsed === null ? noMethodForNil('[]') : new RubyError('NoMethodError', `undefined method '[]' for ${String(parsed)}`);
  } else if (Array.isArray(parsed) || typeof parsed === 'number' || typeof parsed === 'bigint') {
    throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
  } else if (typeof parsed === 'string') {
    if (!parsed.includes(name)) throw new RubyError('NoMethodError', "undefined method 'find' for an instance of String");
    value = name;
  } else {
    throw new RubyError('NoMethodError', "undefined method '[]' for an instance of Float");
  }
  if (value === undefined || value === null) throw runtimeError(`Could not find secret ${name}`);
  return value;
}

/** `kamal secrets extract NAME SECRETS`: what it prints, or with `inline` the value as it is. */
export function secretsExtract(name: string, secrets: string, inline = false): string {
  const value = extractSecretValue(name, secrets);
  return inline ? rubyToS(value) : rubyPuts(value);
}

/** `kamal secrets print`: `KEY=value` lines (`puts`), values shown as [REDACTED] unless `reveal`. */
export function secretsPrintLines(entries: Iterable<[string, string]>, reveal: boolean): string {
  let out = '';
  for (const [key, value] of entries) out += rubyPuts(`${key}=${reveal ? value : REDACTED}`);
  return out;
}
