/** The `secrets` input: dotenv text or a JSON object, parsed into a map and masked before anything is printed. */
import { secretForms } from '../secret.js';

export class SecretsInputError extends Error {
  /** The message without the input name. */
  readonly detail: string;
  constructor(detail: string) {
    super(`Input 'secrets' ${detail}`);
    this.name = 'SecretsInputError';
    this.detail = detail;
  }
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses the `secrets` input. A text starting with `{` is a JSON object (as from
 * `${{ toJSON(secrets) }}`); anything else is dotenv: `KEY=value`, `export KEY=value`,
 * `# comments`, single or double quoted values (double quotes may span lines and know
 * \n, \t, \", \\ escapes). Error messages name lines, never values.
 */
export function parseSecretsInput(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(trimmed);
  return parseDotenv(text);
}

function parseJson(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message may quote the input: never pass it on.
    throw new SecretsInputError('starts with "{" but is not valid JSON (expected an object such as ${{ toJSON(secrets) }})');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretsInputError('must be a JSON object of names to values');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else throw new SecretsInputError(`key '${safeKey(key)}' must have a string value`);
  }
  return out;
}

function safeKey(key: string): string {
  return KEY.test(key) ? key : '(invalid name)';
}

function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const eq = line.indexOf('=');
    if (eq <= 0) throw new SecretsInputError(`line ${lineNo}: expected KEY=VALUE`);
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) throw new SecretsInputError(`line ${lineNo}: invalid name (letters, digits and _ only, not starting with a digit)`);
    let rest = line.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // The value may continue on the following lines until the closing quote.
      let body = rest.slice(1);
      let close = findClose(body, quote);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]!}`;
        close = findClose(body, quote);
      }
      if (close < 0) throw new SecretsInputError(`line ${lineNo}: unterminated ${quote === '"' ? 'double' : 'single'} quote`);
      const after = body.slice(close + 1).trim();
      if (after !== '' && !after.startsWith('#')) throw new SecretsInputError(`line ${lineNo}: unexpected text after the closing quote`);
      body = body.slice(0, close);
      out[key] = quote === '"' ? unescapeDouble(body) : body;
    } else {
      // An unquoted value ends at a " #" comment.
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      out[key] = rest.trim();
    }
  }
  return out;
}

function findClose(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    if (quote === '"' && body[j] === '\\') {
      j++;
      continue;
    }
    if (body[j] === quote) return j;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n'] ?? c);
}

/**
 * Every string that must be masked for `value`: the value itself, each non-blank line of
 * a multi-line value (keys, certificates), and the encoded forms we or the programs we run
 * may print (JSON-escaped, base64, URL-encoded, shell-quoted; see secretForms).
 */
export function maskableParts(value: string): string[] {
  const parts = new Set<string>();
  if (value.trim() === '') return [];
  parts.add(value);
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n/)) {
      const t = line.trim();
      if (t !== '') parts.add(t);
    }
  }
  for (const f of secretForms(value)) parts.add(f);
  return [...parts];
}

/** Calls `setSecret` for every value, every line of multi-line values and their encoded forms; each once. */
export function maskAll(values: Iterable<string>, setSecret: (s: string) => void, done: Set<string> = new Set()): void {
  for (const value of values) {
    for (const part of maskableParts(value)) {
      if (done.has(part)) continue;
      done.add(part);
      setSecret(part);
    }
  }
}
