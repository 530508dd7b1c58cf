/**
 * JSON as Ruby's json gem (2.19, the one Kamal 2.12 locks) reads and writes it:
 * objects keep their key order (a Map, so numeric keys are not moved first),
 * floats stay floats (`1.0` prints back as `1.0`), and a parse error carries
 * the gem's message (`unexpected end of input at line 1 column 1`,
 * `unexpected character: 'Error:' at line 1 column 1`, ...).
 */
import { rubyFloatToS } from '../../config/ruby.js';
import { RubyError } from './ruby.js';

/** A JSON float, kept apart from integers so it prints as Ruby prints a Float. */
export class RubyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return rubyFloatToS(this.value);
  }
}

export type JsonValue = string | number | bigint | boolean | null | RubyFloat | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export function isObject(v: unknown): v is JsonObject {
  return v instanceof Map;
}

const MAX_NESTING = 100;

class Parser {
  readonly bytes: Buffer;
  pos = 0;
  depth = 0;

  constructor(text: string) {
    this.bytes = Buffer.from(text, 'utf8');
  }

  peek(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! : 0;
  }

  fail(format: string, at = this.pos): never {
    this.pos = at;
    let column = 0;
    let line = 1;
    let i = Math.min(this.pos, this.bytes.length);
    // as the gem counts: the byte under the cursor (NUL at the end) back to the last newline
    while (i >= 0) {
      const b = i < this.bytes.length ? this.bytes[i]! : 0;
      i--;
      if (b === 0x0a) break;
      column++;
    }
    while (i >= 0) {
      if (this.bytes[i--] === 0x0a) line++;
    }
    throw new RubyError('JSON::ParserError', `${format.replace('%s', this.fragment())} at line ${line} column ${column}`);
  }

  fragment(): string {
    if (this.pos >= this.bytes.length) return 'EOF';
    let len = 0;
    while (len < 32) {
      const ch = this.pos + len < this.bytes.length ? this.bytes[this.pos + len]! : 0;
      if (ch === 0 || ch === 0x0a || ch === 0x20 || ch === 0x09 || ch === 0x0d) break;
      len++;
    }
    if (len === 0) return 'EOF';
    const buf = this.bytes.subarray(this.pos, this.pos + len);
    let end = len;
    while (end > 0 && buf[end - 1]! >= 0x80 && buf[end - 1]! < 0xc0) end--;
    if (end > 0 && buf[end - 1]! >= 0xc0) end--;
    return `'${buf.subarray(0, end).toString('utf8')}'`;
  }

  whitespace(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) this.pos++;
      else if (c === 0x2f) this.comment();
      else return;
    }
  }

  comment(): void {
    const start = this.pos;
    this.pos++;
    const c = this.peek();
    if (c === 0x2f) {
      const nl = this.bytes.indexOf(0x0a, this.pos);
      this.pos = nl < 0 ? this.bytes.length : nl + 1;
    } else if (c === 0x2a) {
      this.pos++;
      for (;;) {
        const star = this.bytes.indexOf(0x2a, this.pos);
        if (star < 0) this.fail("unterminated comment, expected closing '*/'", start);
        this.pos = star + 1;
        if (this.peek() === 0x2f) {
          this.pos++;
          break;
        }
      }
    } else this.fail('unexpected token %s', start);
  }

  startsWith(word: string): boolean {
    return this.bytes.subarray(this.pos, this.pos + word.length).toString('latin1') === word;
  }

  any(): JsonValue {
    this.whitespace();
    const c = this.peek();
    switch (c) {
      case 0x6e: // n
        if (this.startsWith('null')) return ((this.pos += 4), null);
        return this.fail('unexpected token %s');
      case 0x74:
        if (this.startsWith('true')) return ((this.pos += 4), true);
        return this.fail('unexpected token %s');
      case 0x66:
        if (this.startsWith('false')) return ((this.pos += 5), false);
        return this.fail('unexpected token %s');
      case 0x4e: // N
      case 0x49: // I
        return this.fail('unexpected token %s');
      case 0x2d: // -
        if (this.startsWith('-Infinity')) return this.fail('unexpected token %s');
        return this.number();
      case 0x22:
        return this.string();
      case 0x5b:
        return this.array();
      case 0x7b:
        return this.object();
      case 0:
        return this.fail('unexpected end of input');
      default:
        if (c >= 0x30 && c <= 0x39) return this.number();
        return this.fail('unexpected character: %s');
    }
  }

  digits(): number {
    const start = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos - start;
  }

  number(): JsonValue {
    const start = this.pos;
    const negative = this.peek() === 0x2d;
    if (negative) this.pos++;
    const first = this.peek();
    const intDigits = this.digits();
    if ((first === 0x30 && intDigits > 1) || (negative && intDigits === 0)) this.fail('invalid number: %s', start);
    let integer = true;
    if (this.peek() === 0x2e) {
      integer = false;
      this.pos++;
      if (!this.digits()) this.fail('invalid number: %s', start);
    }
    if ((this.peek() | 0x20) === 0x65) {
      integer = false;
      this.pos++;
      if (this.peek() === 0x2d || this.peek() === 0x2b) this.pos++;
      if (!this.digits()) this.fail('invalid number: %s', start);
    }
    const text = this.bytes.subarray(start, this.pos).toString('latin1');
    if (!integer) return new RubyFloat(Number(text));
    const n = Number(text);
    return Number.isSafeInteger(n) ? (Object.is(n, -0) ? 0 : n) : BigInt(text);
  }

  string(): string {
    this.pos++;
    const start = this.pos;
    const out: Buffer[] = [];
    let from = start;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('unexpected end of input, expected closing "');
      const c = this.bytes[this.pos]!;
      if (c === 0x22) {
        out.push(this.bytes.subarray(from, this.pos));
        this.pos++;
        return Buffer.concat(out).toString('utf8');
      }
      if (c < 0x20) this.fail('invalid ASCII control character in string: %s');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out.push(this.bytes.subarray(from, this.pos));
      const esc = this.pos + 1 < this.bytes.length ? this.bytes[this.pos + 1]! : 0;
      if (this.pos + 1 >= this.bytes.length) this.fail('unexpected end of input, expected closing "', this.bytes.length);
      const simple: Record<number, string> = { 0x22: '"', 0x2f: '/', 0x5c: '\\', 0x6e: '\n', 0x72: '\r', 0x74: '\t', 0x62: '\b', 0x66: '\f' };
      if (simple[esc] !== undefined) {
        out.push(Buffer.from(simple[esc]!, 'utf8'));
        this.pos += 2;
      } else if (esc === 0x75) {
        const at = this.pos;
        let ch = this.hex4(this.pos + 2, at);
        this.pos += 6;
        if ((ch & 0xfc00) === 0xd800) {
          if (this.bytes[this.pos] === 0x5c && this.bytes[this.pos + 1] === 0x75 && this.pos + 6 <= this.bytes.length) {
            const sur = this.hex4(this.pos + 2, at);
            if ((sur & 0xfc00) !== 0xdc00) this.fail('invalid surrogate pair at %s', at);
            ch = 0x10000 + ((ch - 0xd800) << 10) + (sur - 0xdc00);
            this.pos += 6;
          } else this.fail('incomplete surrogate pair at %s', at);
        }
        out.push(Buffer.from(String.fromCodePoint(ch), 'utf8'));
      } else if (esc < 0x20) {
        if (esc === 0x0a) this.fail('Invalid unescaped newline character (\\n) in string: %s');
        this.fail('invalid ASCII control character in string: %s');
      } else this.fail('invalid escape character in string: %s');
      from = this.pos;
    }
  }

  hex4(at: number, escAt: number): number {
    const text = this.bytes.subarray(at, at + 4).toString('latin1');
    if (!/^[0-9a-fA-F]{4}$/.test(text)) this.fail('incomplete unicode character escape sequence at %s', escAt);
    return parseInt(text, 16);
  }

  nest(): void {
    this.depth++;
    if (this.depth > MAX_NESTING) throw new RubyError('JSON::NestingError', `nesting of ${this.depth} is too deep`);
  }

  array(): JsonValue[] {
    this.pos++;
    this.whitespace();
    const out: JsonValue[] = [];
    if (this.peek() === 0x5d) return (this.pos++, out);
    this.nest();
    out.push(this.any());
    for (;;) {
      this.whitespace();
      const c = this.peek();
      if (c === 0x2c) {
        this.pos++;
        out.push(this.any());
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        this.depth--;
        return out;
      }
      this.fail("expected ',' or ']' after array value");
    }
  }

  object(): JsonObject {
    this.pos++;
    this.whitespace();
    const out: JsonObject = new Map();
    if (this.peek() === 0x7d) return (this.pos++, out);
    this.nest();
    if (this.peek() !== 0x22) this.fail('expected object key, got %s');
    let key = this.string();
    this.whitespace();
    if (this.peek() !== 0x3a) this.fail("expected ':' after object key");
    this.pos++;
    out.set(key, this.any());
    for (;;) {
      this.whitespace();
      const c = this.peek();
      if (c === 0x7d) {
        this.pos++;
        this.depth--;
        return out;
      }
      if (c === 0x2c) {
        this.pos++;
        this.whitespace();
        if (this.peek() !== 0x22) this.fail('expected object key, got: %s');
        key = this.string();
        this.whitespace();
        if (this.peek() !== 0x3a) this.fail("expected ':' after object key, got: %s");
        this.pos++;
        out.set(key, this.any());
        continue;
      }
      this.fail("expected ',' or '}' after object value, got: %s");
    }
  }
}

/** `JSON.parse(text)`. Throws a RubyError of class JSON::ParserError with the gem's message. */
export function rubyJsonParse(text: string | null | undefined): JsonValue {
  if (text === null || text === undefined) throw new RubyError('TypeError', 'no implicit conversion of nil into String');
  const p = new Parser(text);
  const value = p.any();
  p.whitespace();
  if (p.pos < p.bytes.length) p.fail('unexpected token at end of stream %s');
  return value;
}

/** `JSON.dump(value)`: compact, keys in order, strings escaped as the gem escapes them. */
export function rubyJsonDump(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : rubyFloatToS(value);
  if (value instanceof RubyFloat) return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => rubyJsonDump(v)).join(',')}]`;
  return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${rubyJsonDump(v)}`).join(',')}}`;
}
