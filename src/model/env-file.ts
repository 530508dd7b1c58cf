/**
 * Kamal's env file format (lib/kamal/env_file.rb): `KEY=value` lines where
 * ASCII runs are escaped like Ruby's String#dump without the surrounding
 * quotes, with `\"` and `\#` unescaped. The content stays a Secret until it
 * is written to the host.
 */
import { Secret } from '../secret.js';
import { asciiRuns, rubyDump, toS } from './utils.js';

export function escapeDockerEnvFileValue(value: string): string {
  return asciiRuns(value)
    .map((r) => (r.ascii ? rubyDump(r.text).slice(1, -1).replace(/\\"/g, '"').replace(/\\#/g, '#') : r.text))
    .join('');
}

export class EnvFile {
  readonly #entries: [string, string | Secret][];

  constructor(entries: Iterable<[string, unknown]>) {
    this.#entries = [...entries].map(([k, v]) => [k, v instanceof Secret ? v : toS(v)]);
  }

  /** The file content (a single newline when empty, like Kamal). */
  content(): Secret {
    let out = '';
    for (const [key, value] of this.#entries) {
      out += `${key}=${escapeDockerEnvFileValue(value instanceof Secret ? value.reveal() : value)}\n`;
    }
    return new Secret(out.length > 0 ? out : '\n');
  }

  keys(): string[] {
    return this.#entries.map(([k]) => k);
  }

  toString(): string {
    return this.content().toString();
  }
}
