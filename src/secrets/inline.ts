/**
 * `$(kamal secrets ...)` in a `.kamal/secrets` file, as Kamal runs it: not in a shell but
 * in-process, as `kamal secrets ... --inline`, the result chomped. `fetch --inline` gives the
 * JSON shell-escaped, so `SECRETS=$(kamal secrets fetch ...)` holds the escaped JSON and
 * `$(kamal secrets extract NAME $SECRETS)` reads it back through shellsplit.
 * Synchronous, for the dotenv parser.
 */
import { shellsplit } from '../config/ruby.js';
import type { VendorRunner } from './adapters/types.js';
import { RubyError, rubyInspect } from './adapters/ruby.js';
import { extractSecretValue, secretsFetch } from './cli.js';

export interface InlineDeps {
  env: Record<string, string | undefined>;
  cwd?: string;
  run?: VendorRunner;
  interactive?: boolean;
  /** Where Kamal's `puts` inside the inline command goes (the missing `--account` message). Default: stdout. */
  out?: (text: string) => void;
}

// Kamal's class options that take a value (they are accepted and have no effect here)
const CLASS_VALUE_OPTIONS = [
  '-c',
  '--config-file',
  '-d',
  '--destination',
  '-h',
  '--hosts',
  '-r',
  '--roles',
  '--version',
  '--lock-wait-timeout',
  '--lock-wait-interval',
];
const VALUE_OPTIONS: Record<string, string> = { '-a': 'adapter', '--adapter': 'adapter', '--account': 'account', '--from': 'from' };

/** Does Kamal inline this command (`kamal secrets ...`) rather than run it in a shell? */
export const isInlineSecretsCommand = (command: string): boolean => /^\s*kamal\s*secrets\s+/.test(command);

/** The value Kamal substitutes for `$(command)`, where `command` is `kamal secrets ...` after `$VAR` substitution. */
export function inlineSecretsCommand(command: string, deps: InlineDeps): string {
  let words: string[];
  try {
    words = shellsplit(command);
  } catch (e) {
    throw new RubyError('ArgumentError', (e as Error).message);
  }
  const [, group, sub, ...rest] = words;
  if (group !== 'secrets') throw new RubyError('Thor::UndefinedCommandError', `Could not find command "${group ?? ''}".`);
  const options: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const [flag, inlineValue] = eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
    const option = Object.hasOwn(VALUE_OPTIONS, flag) ? VALUE_OPTIONS[flag] : undefined;
    if (option || CLASS_VALUE_OPTIONS.includes(flag)) {
      const value = inlineValue ?? rest[++i];
      if (option && value !== undefined) options[option] = value;
    } else if (flag.startsWith('-') && flag.length > 1) {
      // boolean options (--inline, -v, -q, ...)
    } else positional.push(word);
  }

  if (sub === 'fetch') {
    if (options.adapter === undefined) throw new RubyError('Thor::RequiredArgumentMissingError', "No value provided for required options '--adapter'");
    const args = { adapter: options.adapter, account: options.account, from: options.from, names: positional, inline: true };
    const out = secretsFetch(args, { env: deps.env, cwd: deps.cwd, run: deps.run, interactive: deps.interactive });
    // Kamal prints the missing --account message and returns nil, which it then chomps
    if (out.endsWith('\n')) {
      (deps.out ?? ((text: string) => void process.stdout.write(text)))(out);
      throw new RubyError('NoMethodError', "undefined method 'chomp' for nil");
    }
    return out;
  }
  if (sub === 'extract') {
    if (positional.length !== 2) throw invocationError('extract', positional);
    const value = extractSecretValue(positional[0]!, positional[1]!);
    if (typeof value === 'boolean') throw new RubyError('NoMethodError', `undefined method 'chomp' for ${String(value)}`);
    if (typeof value !== 'string') {
      const cls = typeof value === 'number' || typeof value === 'bigint' ? 'Integer' : Array.isArray(value) ? 'Array' : value instanceof Map ? 'Hash' : 'Float';
      throw new RubyError('NoMethodError', `undefined method 'chomp' for an instance of ${cls}`);
    }
    return value.replace(/(\r\n|\n|\r)$/, '');
  }
  // `print` takes no option `--inline`, so Thor reads it as an argument, and `print` takes none
  if (sub === 'print') throw invocationError('print', [...positional, '--inline']);
  throw new RubyError('Thor::UndefinedCommandError', `Could not find command "${sub ?? ''}".`);
}

/** Thor's text for a command called with the wrong number of arguments (it prints this on stderr and exits 1). */
function invocationError(command: string, args: string[]): RubyError {
  const called = args.length === 0 ? 'no arguments' : `arguments [${args.map(rubyInspect).join(', ')}]`;
  return new RubyError('Thor::InvocationError', `ERROR: "kamal secrets ${command}" was called with ${called}\nUsage: "kamal secrets ${command}"`);
}
