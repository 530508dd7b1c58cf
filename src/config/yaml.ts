/**
 * YAML loading with the results Ruby's `YAML.unsafe_load` (Psych) gives for
 * the documents people write: YAML 1.1-style scalars (`yes`/`no`/`on`/`off`,
 * `10_000_000`, `0755`, `0x1F`, `1:30`, `:symbol`), anchors, aliases and
 * `<<` merge keys with Psych's semantics (merged keys override keys written
 * before the `<<`), duplicate keys (the last one wins), first document only.
 *
 * JavaScript has no Symbol/Float/Date distinction to carry, so:
 *   - `:symbol` scalars become the string "symbol" (Ruby's Symbol#to_s);
 *   - floats become strings formatted like Ruby's Float#to_s ("3.0", "1.0e+20");
 *   - integers beyond 2^53 become their exact decimal string;
 *   - dates and timestamps become YamlTimestamp objects (not strings, so that
 *     string-typed keys reject them as Kamal does).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { rubyFloatToS, setKey } from './ruby.js';

/** A YAML date or timestamp, kept as written. */
export class YamlTimestamp {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export interface ParseYamlOptions {
  /** File name for messages. */
  file?: string;
  /** Maps a line of `text` to the line of the original file (after ERB). */
  lineMap?: number[];
  /** Upper bound on the number of nodes after alias expansion. */
  maxNodes?: number;
}

const STR_TAG = 'tag:yaml.org,2002:str';

/**
 * Parses the first YAML document of `text`. Returns what Psych returns: `false`
 * for an empty stream, otherwise the converted value. Throws ConfigError for
 * syntax errors and unsupported tags.
 */
export function parseYaml(text: string, opts: ParseYamlOptions = {}): unknown {
  const file = opts.file ?? 'config/deploy.yml';
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    schema: 'failsafe',
    uniqueKeys: false,
    merge: false,
    lineCounter,
    prettyErrors: true,
    strict: false,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list[0] as Document.Parsed | undefined;
  const mapLine = (line: number) => opts.lineMap?.[line - 1] ?? line;
  if (!doc) {
    // parseAllDocuments returns an EmptyStream, which can still carry errors
    const errors = (docs as unknown as { errors?: Array<{ message: string; linePos?: Array<{ line: number; col: number }> }> }).errors;
    if (errors && errors.length > 0) throw syntaxError(file, errors[0]!, mapLine);
    return false;
  }
  if (doc.errors.length > 0) throw syntaxError(file, doc.errors[0]!, mapLine);
  const at = (node: { range?: [number, number, number] | null } | null | undefined, near?: string): string => {
    let offset = node?.range?.[0];
    if (offset === undefined) return file;
    // a tag written before a block collection sits on an earlier line than the collection's first key
    if (near) {
      const written = text.lastIndexOf(near, offset);
      if (written >= 0) offset = written;
    }
    const pos = lineCounter.linePos(offset);
    return `${file}:${mapLine(pos.line)}`;
  };
  const conv = new Converter(doc, at, opts.maxNodes ?? 100_000);
  return conv.convert(doc.contents as Node | null);
}

function syntaxError(
  file: string,
  e: { message: string; linePos?: Array<{ line: number; col: number }> | [{ line: number; col: number }] },
  mapLine: (l: number) => number,
): ConfigError {
  const msg = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
  const pos = e.linePos?.[0];
  const where = pos ? ` at line ${mapLine(pos.line)}, column ${pos.col}` : '';
  return new ConfigError(`${file}: invalid YAML${where}: ${msg}`);
}

class Converter {
  readonly #cache = new Map<Node, unknown>();
  readonly #active = new Set<Node>();
  readonly #sizes = new Map<Node, number>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly at: (node: Node | null | undefined, near?: string) => string,
    private readonly maxNodes: number,
  ) {}

  convert(root: Node | null): unknown {
    if (root && this.size(root) > this.maxNodes) {
      throw new ConfigError(`${this.at(root)}: the document expands to more than ${this.maxNodes} nodes (too many aliases)`);
    }
    return this.node(root);
  }

  /** Node count after alias expansion, memoised per node so it stays linear. */
  private size(n: Node | null | undefined): number {
    if (!n) return 1;
    const cached = this.#sizes.get(n);
    if (cached !== undefined) return cached;
    if (this.#active.has(n)) throw new ConfigError(`${this.at(n)}: recursive YAML alias`);
    this.#active.add(n);
    let total = 1;
    if (isAlias(n)) total = this.size(this.resolveAlias(n));
    else if (isMap(n)) for (const p of n.items) total += this.size(p.key as Node) + this.size(p.value as Node);
    else if (isSeq(n)) for (const it of n.items) total += this.size(it as Node);
    this.#active.delete(n);
    const capped = Math.min(total, Number.MAX_SAFE_INTEGER);
    this.#sizes.set(n, capped);
    if (capped > this.maxNodes) {
      throw new ConfigError(`${this.at(n)}: the document expands to more than ${this.maxNodes} nodes (too many aliases)`);
    }
    return capped;
  }

  private resolveAlias(n: Node): Node {
    const target = (n as unknown as { resolve(doc: Document): Node | undefined }).resolve(this.doc);
    if (!target) throw new ConfigError(`${this.at(n)}: unknown YAML alias *${(n as unknown as { source: string }).source}`);
    return target;
  }

  private node(n: Node | null | undefined): unknown {
    if (n === null || n === undefined) return null;
    const cached = this.#cache.get(n);
    if (cached !== undefined || this.#cache.has(n)) return cached;
    let value: unknown;
    if (isAlias(n)) value = this.node(this.resolveAlias(n));
    else if (isScalar(n)) value = this.scalar(n);
    else if (isMap(n)) value = this.map(n);
    else if (isSeq(n)) value = this.seq(n);
    else throw new ConfigError(`${this.at(n)}: unsupported YAML node`);
    this.#cache.set(n, value);
    return value;
  }

  private checkCollectionTag(n: Node): void {
    const tag = n.tag;
    if (!tag) return;
    if (tag.startsWith('!ruby/') || tag === 'tag:yaml.org,2002:omap' || tag === 'tag:yaml.org,2002:set' || tag === 'tag:yaml.org,2002:pairs') {
      throw new ConfigError(`${this.at(n, tag.startsWith('!') ? tag : undefined)}: unsupported YAML tag ${tag}`);
    }
  }

  private seq(n: Node): unknown[] {
    this.checkCollectionTag(n);
    const items = (n as unknown as { items: Node[] }).items;
    return items.map((it) => this.node(it));
  }

  private map(n: Node): Record<string, unknown> {
    this.checkCollectionTag(n);
    const out: Record<string, unknown> = {};
    for (const pair of (n as unknown as { items: unknown[] }).items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      const key = this.node(keyNode);
      const value = this.node(valueNode);
      const keyTag = keyNode && isScalar(keyNode) ? keyNode.tag : undefined;
      if (key === '<<' && keyTag !== STR_TAG) {
        // Psych: an alias or a mapping is merged with `hash.merge!(value)`; a
        // sequence written in place merges its hashes right to left; anything
        // else (or a failed merge) is kept as an ordinary "<<" key.
        if (valueNode && (isAlias(valueNode) || isMap(valueNode)) && isHash(value)) {
          for (const [k, v] of Object.entries(value)) setKey(out, k, v);
          continue;
        }
        if (valueNode && isSeq(valueNode) && Array.isArray(value) && value.every(isHash)) {
          const merged: Record<string, unknown> = {};
          for (const h of [...value].reverse()) for (const [k, v] of Object.entries(h as Record<string, unknown>)) setKey(merged, k, v);
          for (const [k, v] of Object.entries(merged)) setKey(out, k, v);
          continue;
        }
        setKey(out, '<<', value);
        continue;
      }
      setKey(out, this.keyString(key, keyNode), value);
    }
    return out;
  }

  private keyString(key: unknown, keyNode: Node | null): string {
    if (key === null) return '';
    if (typeof key === 'string') return key;
    if (typeof key === 'number' || typeof key === 'boolean') return String(key);
    if (key instanceof YamlTimestamp) return key.text;
    throw new ConfigError(`${this.at(keyNode)}: unsupported YAML mapping key (a ${Array.isArray(key) ? 'sequence' : 'mapping'})`);
  }

  private scalar(n: Scalar): unknown {
    const raw = n.value;
    const text = typeof raw === 'string' ? raw : raw === null || raw === undefined ? '' : String(raw);
    const quoted = n.type !== undefined && n.type !== Scalar.PLAIN;
    const tag = n.tag;
    if (quoted) return text;
    if (!tag) return tokenize(text);
    if (tag === STR_TAG || tag === '!str' || tag === '!ruby/string') return text;
    if (tag === 'tag:yaml.org,2002:binary' || tag === '!binary') return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (tag === 'tag:yaml.org,2002:float' || tag === '!float') {
      const t = tokenize(text);
      const num = typeof t === 'number' ? t : typeof t === 'string' ? Number(t.trim()) : NaN;
      if (typeof t === 'string' && Number.isNaN(Number(t))) throw new ConfigError(`${this.at(n)}: invalid value for Float(): ${JSON.stringify(text)}`);
      return rubyFloatToS(num);
    }
    if (/^!ruby\/sym(bol)?:?/.test(tag)) return text;
    if (tag.startsWith('!ruby/')) throw new ConfigError(`${this.at(n)}: unsupported YAML tag ${tag}`);
    return tokenize(text);
  }
}

function isHash(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof YamlTimestamp);
}

// Psych::ScalarScanner (strict_integer: false)
const STRINGISH = /^[^\d.:-]?[\p{Alphabetic}_ \t\n\v\f\r!@#$%^&*(){}<>|/\\~;=]+/u;
const TIME = /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/;
const DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/;
const SEXAGESIMAL_INT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/;
const SEXAGESIMAL_FLOAT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/;
const FLOAT = /^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
const INTEGER = /^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$/;

/** The value Psych gives a plain (unquoted, untagged) scalar. */
export function tokenize(s: string): unknown {
  if (s === '') return null;
  if (STRINGISH.test(s) || s.includes('\n')) {
    if ([...s].length > 5) return s;
    if (/^[^ytonf~]/im.test(s)) return s;
    if (s === '~' || /^null$/im.test(s)) return null;
    if (/^(yes|true|on)$/im.test(s)) return true;
    if (/^(no|false|off)$/im.test(s)) return false;
    return s;
  }
  if (TIME.test(s)) return new YamlTimestamp(s);
  if (DATE.test(s)) return validDate(s) ? new YamlTimestamp(s) : s;
  if (/^\+?\.inf$/i.test(s)) return rubyFloatToS(Infinity);
  if (/^-\.inf$/i.test(s)) return rubyFloatToS(-Infinity);
  if (/^\.nan$/i.test(s)) return rubyFloatToS(NaN);
  if (/^:./.test(s)) {
    const m = /^:(["'])(.*)\1/.exec(s);
    return m ? m[2]!.replace(/^:/, '') : s.slice(1);
  }
  if (SEXAGESIMAL_INT.test(s)) {
    let i = 0;
    const parts = s.split(':');
    parts.forEach((p, e) => {
      i += rubyToI(p) * 60 ** Math.abs(e - 2);
    });
    return i;
  }
  if (SEXAGESIMAL_FLOAT.test(s)) {
    let f = 0;
    const parts = s.split(':');
    parts.forEach((p, e) => {
      f += rubyToF(p) * 60 ** Math.abs(e - 2);
    });
    return rubyFloatToS(f);
  }
  if (FLOAT.test(s)) {
    if (/^[-+]?\.$/.test(s)) return s;
    const cleaned = s.replace(/[,_]/g, '').replace(/\.([Ee]|$)/, '$1');
    const f = Number(cleaned);
    return Number.isNaN(f) ? s : rubyFloatToS(f);
  }
  if (INTEGER.test(s)) return parseInteger(s);
  return s;
}

function validDate(s: string): boolean {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  if (m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** Ruby `String#to_i` (leading sign and digits, underscores between digits). */
function rubyToI(s: string): number {
  const m = /^\s*([-+]?)(\d+(?:_\d+)*)/.exec(s);
  if (!m) return 0;
  const v = Number(m[2]!.replace(/_/g, ''));
  return m[1] === '-' ? -v : v;
}

function rubyToF(s: string): number {
  const m = /^\s*[-+]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?/.exec(s);
  return m ? Number(m[0].replace(/_/g, '')) : 0;
}

/** Ruby `Integer(string.delete(',_'))`; beyond 2^53 the exact decimal string. */
function parseInteger(s: string): number | string {
  const cleaned = s.replace(/[,_]/g, '');
  const neg = cleaned.startsWith('-');
  const body = cleaned.replace(/^[-+]/, '');
  let big: bigint;
  try {
    if (/^0b/i.test(body)) big = BigInt('0b' + body.slice(2));
    else if (/^0x/i.test(body)) big = BigInt('0x' + body.slice(2));
    else if (/^0[0-7]+$/.test(body)) big = BigInt('0o' + body.slice(1));
    else if (/^[0-9]+$/.test(body)) big = BigInt(body);
    else return s;
  } catch {
    return s;
  }
  if (neg) big = -big;
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) return big.toString();
  return Number(big);
}
