/**
 * YAML text as Ruby's `Object#to_yaml` writes it (Psych 5's YAMLTree on libyaml 0.2.5's emitter,
 * default options: indent 2, line width 80, unicode), so `kamal-action config` prints what
 * `kamal config` prints and scripts that read one read the other.
 *
 * The value model: strings, integers (JS numbers), booleans, null, arrays, plain objects and Maps
 * (insertion order), `RubySymbol` (written `:name`), `RubyFloat` (a float already formatted as
 * Ruby's Float#to_s) and `RubyObject` (a tagged mapping such as `!ruby/object:Net::SSH::Proxy::Jump`).
 */

export class RubySymbol {
  constructor(readonly name: string) {}
}

export class RubyFloat {
  constructor(readonly text: string) {}
}

export class RubyObject {
  constructor(
    readonly className: string,
    readonly ivars: ReadonlyArray<readonly [string, unknown]>,
  ) {}
}

type Style = 'plain' | 'single' | 'double' | 'literal';

interface ScalarEvent {
  value: string;
  /** Psych's requested style (before libyaml's checks). */
  style: Style;
  plainImplicit: boolean;
  quotedImplicit: boolean;
  /** A tag to write (`!!str`), when not implicit. */
  tag?: { handle: string; suffix: string };
}

interface Analysis {
  multiline: boolean;
  flowPlainAllowed: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

const isBreak = (c: string | undefined): boolean => c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isSpace = (c: string | undefined): boolean => c === ' ';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
/** libyaml's IS_BLANKZ: blank, break or the end of the string. */
const isBlankZ = (c: string | undefined): boolean => c === undefined || c === '\0' || isBlank(c) || isBreak(c);

function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

/** libyaml's yaml_emitter_analyze_scalar (unicode output on). */
function analyzeScalar(value: string): Analysis {
  const chars = [...value];
  if (chars.length === 0) {
    return { multiline: false, flowPlainAllowed: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  }
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let specialCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;

  if (value.startsWith('---') || value.startsWith('...')) {
    blockIndicators = true;
    flowIndicators = true;
  }
  let precededByWhitespace = true;
  let followedByWhitespace = isBlankZ(chars[1]);

  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) {
        flowIndicators = true;
        blockIndicators = true;
      }
      if (c === '?' || c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (c === '-' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    } else {
      if (',?[]{}'.includes(c)) flowIndicators = true;
      if (c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (c === '#' && precededByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    }
    if (!isPrintable(c)) specialCharacters = true;
    if (isBreak(c)) lineBreaks = true;

    if (isSpace(c)) {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankZ(c);
    if (i + 1 < chars.length) followedByWhitespace = isBlankZ(chars[i + 2]);
  }

  const a: Analysis = { multiline: lineBreaks, flowPlainAllowed: true, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
  }
  if (trailingSpace) a.blockAllowed = false;
  if (breakSpace) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
    a.singleQuotedAllowed = false;
  }
  if (spaceBreak || specialCharacters) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
    a.singleQuotedAllowed = false;
    a.blockAllowed = false;
  }
  if (lineBreaks) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
  }
  if (flowIndicators) a.flowPlainAllowed = false;
  if (blockIndicators) a.blockPlainAllowed = false;
  return a;
}

// ---- Psych::ScalarScanner#tokenize, reduced to "does this text load back as a String?" ----

const WORD = /[\p{L}\p{M}\p{N}\p{Pc}]/u;
const STRINGISH = /^[^\d.:-]?[\p{Alphabetic}_\s!@#$%^&*(){}<>|/\\~;=]+/mu;
const TIME = /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/m;
const DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/m;
const FLOAT = /^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$/m;
const INTEGER_LEGACY =
  /^(?:[-+]?0b[_,]*[0-1][0-1_,]*|[-+]?0[_,]*[0-7][0-7_,]*|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[_,]*[0-9a-fA-F][0-9a-fA-F_,]*)$/m;

function validDate(s: string): boolean {
  const m = /(\d{4})-(\d{1,2})-(\d{1,2})/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

function tokenizesToString(s: string): boolean {
  if (s === '') return false;
  if (STRINGISH.test(s) || s.includes('\n')) {
    if (s.length > 5) return true;
    if (/^[^ytonf~]/imu.test(s)) return true;
    if (s === '~' || /^null$/im.test(s)) return false;
    if (/^(yes|true|on)$/im.test(s) || /^(no|false|off)$/im.test(s)) return false;
    return true;
  }
  if (TIME.test(s)) return false;
  if (DATE.test(s)) return !validDate(s);
  if (/^\+?\.inf$/im.test(s) || /^-\.inf$/im.test(s) || /^\.nan$/im.test(s)) return false;
  if (/^:./m.test(s)) return false;
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/m.test(s)) return false;
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/m.test(s)) return false;
  if (FLOAT.test(s)) return /^[-+]?\.$/.test(s);
  if (INTEGER_LEGACY.test(s)) return false;
  return true;
}

/** Psych's YAMLTree#visit_String: the style it asks the emitter for. */
function stringEvent(o: string): ScalarEvent {
  const ev: ScalarEvent = { value: o, style: 'plain', plainImplicit: true, quotedImplicit: true };
  if (/\n(?!\n?(?![\s\S]))/.test(o)) ev.style = 'literal';
  else if (o === '<<') return { value: o, style: 'single', plainImplicit: false, quotedImplicit: false, tag: { handle: '!!', suffix: 'str' } };
  else if (o === 'y' || o === 'Y' || o === 'n' || o === 'N') ev.style = 'double';
  else if (startsWithNonWordLine(o)) ev.style = 'double';
  else if (!tokenizesToString(o) || /^0[0-7]*[89]/.test(o)) ev.style = 'single';
  return ev;
}

/** Ruby's `o =~ /^[^[:word:]][^"]*$/` (multi-line anchors, `[^"]` crosses lines). */
function startsWithNonWordLine(o: string): boolean {
  // try every line start; from there, everything up to some line end must be free of `"`
  const starts = [0];
  for (let i = 0; i < o.length; i++) if (o[i] === '\n') starts.push(i + 1);
  for (const st of starts) {
    const first = o.codePointAt(st);
    if (first === undefined) continue;
    const ch = String.fromCodePoint(first);
    if (WORD.test(ch)) continue;
    const rest = o.slice(st + ch.length);
    // [^"]* then $ (end of string or before a newline)
    const q = rest.indexOf('"');
    const span = q < 0 ? rest : rest.slice(0, q);
    if (q < 0) return true;
    if (span.includes('\n')) return true;
  }
  return false;
}

class Emitter {
  out = '';
  column = 0;
  whitespace = true;
  indention = true;
  indent = -1;
  readonly indents: number[] = [];
  flowLevel = 0;
  openEnded = 0;
  readonly bestWidth = 80;
  readonly bestIndent = 2;

  put(c: string): void {
    this.out += c;
    this.column++;
  }

  putBreak(): void {
    this.out += '\n';
    this.column = 0;
  }

  write(c: string): void {
    this.out += c;
    this.column++;
  }

  writeBreak(c: string): void {
    if (c === '\n') this.putBreak();
    else {
      this.out += c;
      this.column = 0;
    }
  }

  increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? this.bestIndent : 0;
    else if (!indentless) this.indent += this.bestIndent;
  }

  popIndent(): void {
    this.indent = this.indents.pop()!;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of indicator) this.write(c);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  writeTag(tag: { handle: string; suffix: string }): void {
    if (!this.whitespace) this.put(' ');
    for (const c of tag.handle) this.write(c);
    this.whitespace = false;
    this.indention = false;
    for (const c of tag.suffix) {
      if (/[0-9A-Za-z_\-;/?:@&=+$,.~*'()[\]]/.test(c)) this.write(c);
      else for (const b of Buffer.from(c, 'utf8')) (this.out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`), (this.column += 3);
    }
    this.whitespace = false;
    this.indention = false;
  }

  // ---- documents ----

  document(value: unknown): string {
    this.writeIndent();
    this.writeIndicator('---', true, false, false);
    this.node(value, { root: true, sequence: false, mapping: false, simpleKey: false });
    // document end (implicit)
    this.writeIndent();
    if (!this.openEnded) this.openEnded = 1;
    // stream end
    if (this.openEnded === 2) {
      this.writeIndicator('...', true, false, false);
      this.openEnded = 0;
      this.writeIndent();
    }
    return this.out;
  }

  // ---- nodes ----

  node(value: unknown, ctx: { root: boolean; sequence: boolean; mapping: boolean; simpleKey: boolean }): void {
    if (value instanceof RubyObject) {
      this.mapping(
        value.ivars.map(([k, v]) => [k, v] as const),
        ctx,
        { handle: '!', suffix: `ruby/object:${value.className}` },
      );
      return;
    }
    if (Array.isArray(value)) return this.sequence(value, ctx);
    if (value instanceof Map) return this.mapping([...value.entries()], ctx);
    if (value !== null && typeof value === 'object' && !(value instanceof RubySymbol) && !(value instanceof RubyFloat)) {
      return this.mapping(
        Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined),
        ctx,
      );
    }
    this.scalar(scalarEvent(value), ctx.simpleKey);
  }

  sequence(items: unknown[], ctx: { mapping: boolean }): void {
    if (this.flowLevel > 0 || items.length === 0) {
      this.writeIndicator('[', true, true, false);
      this.increaseIndent(true, false);
      this.flowLevel++;
      items.forEach((item, i) => {
        if (i > 0) this.writeIndicator(',', false, false, false);
        if (this.column > this.bestWidth) this.writeIndent();
        this.node(item, { root: false, sequence: true, mapping: false, simpleKey: false });
      });
      this.flowLevel--;
      this.popIndent();
      this.writeIndicator(']', false, false, false);
      return;
    }
    this.increaseIndent(false, ctx.mapping && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { root: false, sequence: true, mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  mapping(pairs: ReadonlyArray<readonly [unknown, unknown]>, _ctx: unknown, tag?: { handle: string; suffix: string }): void {
    if (tag) this.writeTag(tag);
    if (this.flowLevel > 0 || pairs.length === 0) {
      this.writeIndicator('{', true, true, false);
      this.increaseIndent(true, false);
      this.flowLevel++;
      pairs.forEach(([k, v], i) => {
        if (i > 0) this.writeIndicator(',', false, false, false);
        if (this.column > this.bestWidth) this.writeIndent();
        this.node(k, { root: false, sequence: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
        this.node(v, { root: false, sequence: false, mapping: true, simpleKey: false });
      });
      this.flowLevel--;
      this.popIndent();
      this.writeIndicator('}', false, false, false);
      return;
    }
    this.increaseIndent(false, false);
    for (const [k, v] of pairs) {
      this.writeIndent();
      if (this.isSimpleKey(k)) {
        this.node(k, { root: false, sequence: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(k, { root: false, sequence: false, mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(v, { root: false, sequence: false, mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  /** libyaml's check_simple_key for the key node. */
  isSimpleKey(k: unknown): boolean {
    if (Array.isArray(k)) return k.length === 0;
    if (k instanceof Map) return k.size === 0;
    if (k instanceof RubyObject) return false;
    if (k !== null && typeof k === 'object' && !(k instanceof RubySymbol) && !(k instanceof RubyFloat)) return Object.keys(k).length === 0;
    const ev = scalarEvent(k);
    if (analyzeScalar(ev.value).multiline) return false;
    const tagLength = ev.tag ? ev.tag.handle.length + ev.tag.suffix.length : 0;
    return tagLength + Buffer.byteLength(ev.value, 'utf8') <= 128;
  }

  scalar(ev: ScalarEvent, simpleKey: boolean): void {
    const a = analyzeScalar(ev.value);
    // yaml_emitter_select_scalar_style
    let style = ev.style;
    const noTag = !ev.tag;
    if (simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlainAllowed) || (this.flowLevel === 0 && !a.blockPlainAllowed)) style = 'single';
      if (ev.value.length === 0 && (this.flowLevel > 0 || simpleKey)) style = 'single';
      if (noTag && !ev.plainImplicit) style = 'single';
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || this.flowLevel > 0 || simpleKey)) style = 'double';
    let tag = ev.tag;
    if (noTag && !ev.quotedImplicit && style !== 'plain') tag = { handle: '!', suffix: '' };

    if (tag) this.writeTag(tag);
    this.increaseIndent(true, false);
    const allowBreaks = !simpleKey;
    if (style === 'plain') this.writePlain(ev.value, allowBreaks);
    else if (style === 'single') this.writeSingleQuoted(ev.value, allowBreaks);
    else if (style === 'double') this.writeDoubleQuoted(ev.value, allowBreaks);
    else this.writeLiteral(ev.value);
    this.popIndent();
  }

  /** A line break in a plain or single-quoted scalar: the first of a run written twice, as folding reads one as a space. */
  writeFoldedBreak(c: string, afterBreak: boolean): void {
    if (!afterBreak && c === '\n') this.putBreak();
    this.writeBreak(c);
    this.indention = true;
  }

  /** A scalar's character other than a space or break (with its escape): after a break, the indentation first. */
  writeScalarChar(c: string, afterBreak: boolean, escape = ''): void {
    if (afterBreak) this.writeIndent();
    if (escape) this.put(escape);
    this.write(c);
    this.indention = false;
  }

  writePlain(value: string, allowBreaks: boolean): void {
    const chars = [...value];
    let spaces = false;
    let breaks = false;
    if (!this.whitespace && (chars.length > 0 || this.flowLevel > 0)) this.put(' ');
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (isSpace(c)) {
        if (allowBreaks && !spaces && this.column > this.bestWidth && !isSpace(chars[i + 1])) this.writeIndent();
        else this.write(c);
        spaces = true;
      } else if (isBreak(c)) {
        this.writeFoldedBreak(c, breaks);
        breaks = true;
      } else {
        this.writeScalarChar(c, breaks);
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  writeSingleQuoted(value: string, allowBreaks: boolean): void {
    const chars = [...value];
    let spaces = false;
    let breaks = false;
    this.writeIndicator("'", true, false, false);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (isSpace(c)) {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i !== 0 && i !== chars.length - 1 && !isSpace(chars[i + 1])) {
          this.writeIndent();
        } else this.write(c);
        spaces = true;
      } else if (isBreak(c)) {
        this.writeFoldedBreak(c, breaks);
        breaks = true;
      } else {
        this.writeScalarChar(c, breaks, c === "'" ? "'" : '');
        spaces = false;
        breaks = false;
      }
    }
    if (breaks) this.writeIndent();
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeDoubleQuoted(value: string, allowBreaks: boolean): void {
    const chars = [...value];
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      const cp = c.codePointAt(0)!;
      if (!isPrintable(c) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
        this.put('\\');
        const short: Record<number, string> = {
          0x00: '0',
          0x07: 'a',
          0x08: 'b',
          0x09: 't',
          0x0a: 'n',
          0x0b: 'v',
          0x0c: 'f',
          0x0d: 'r',
          0x1b: 'e',
          0x22: '"',
          0x5c: '\\',
          0x85: 'N',
          0xa0: '_',
          0x2028: 'L',
          0x2029: 'P',
        };
        const s = short[cp];
        if (s !== undefined) this.put(s);
        else {
          const [letter, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter as string);
          for (const d of cp
            .toString(16)
            .toUpperCase()
            .padStart(width as number, '0'))
            this.put(d);
        }
        spaces = false;
      } else if (isSpace(c)) {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i !== 0 && i !== chars.length - 1) {
          this.writeIndent();
          if (isSpace(chars[i + 1])) this.put('\\');
        } else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeBlockScalarHints(chars: string[]): void {
    if (isSpace(chars[0]) || isBreak(chars[0])) this.writeIndicator(String(this.bestIndent), false, false, false);
    this.openEnded = 0;
    let chomp: string | undefined;
    const n = chars.length;
    if (n === 0) chomp = '-';
    else if (!isBreak(chars[n - 1])) chomp = '-';
    else if (n === 1) {
      chomp = '+';
      this.openEnded = 2;
    } else if (isBreak(chars[n - 2])) {
      chomp = '+';
      this.openEnded = 2;
    }
    if (chomp) this.writeIndicator(chomp, false, false, false);
  }

  writeLiteral(value: string): void {
    const chars = [...value];
    let breaks = true;
    this.writeIndicator('|', true, false, false);
    this.writeBlockScalarHints(chars);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    for (const c of chars) {
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        this.writeScalarChar(c, breaks);
        breaks = false;
      }
    }
  }
}

function scalarEvent(value: unknown): ScalarEvent {
  if (value === null || value === undefined) return { value: '', style: 'plain', plainImplicit: true, quotedImplicit: false };
  if (value instanceof RubySymbol) {
    if (value.name === '') return { value: '', style: 'plain', plainImplicit: false, quotedImplicit: false, tag: { handle: '!', suffix: 'ruby/symbol' } };
    return { value: `:${value.name}`, style: 'plain', plainImplicit: true, quotedImplicit: false };
  }
  if (value instanceof RubyFloat) return { value: value.text, style: 'plain', plainImplicit: true, quotedImplicit: false };
  if (typeof value === 'number' || typeof value === 'bigint') return { value: String(value), style: 'plain', plainImplicit: true, quotedImplicit: false };
  if (typeof value === 'boolean') return { value: String(value), style: 'plain', plainImplicit: true, quotedImplicit: false };
  return stringEvent(String(value));
}

/** `value.to_yaml` as Ruby prints it. */
export function toRubyYaml(value: unknown): string {
  return new Emitter().document(value);
}
