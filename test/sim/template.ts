/**
 * The part of Go's text/template that docker's --format flags use in deploys: `{{.A.B}}`,
 * `{{ .Config.Labels.service }}`, `{{index .X 0}}`, `{{json .X}}`, `{{if .X}}...{{else}}...{{end}}`.
 * Anything else throws, so an unmodelled format fails loudly.
 */

export class TemplateError extends Error {}

type Tok = { text: string } | { action: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    if (open > i) out.push({ text: src.slice(i, open) });
    const close = src.indexOf('}}', open);
    if (close < 0) throw new TemplateError(`template: unclosed action in ${JSON.stringify(src)}`);
    out.push({ action: src.slice(open + 2, close).trim() });
    i = close + 2;
  }
  return out;
}

function lookup(data: unknown, path: string): unknown {
  if (path === '.') return data;
  if (!path.startsWith('.')) throw new TemplateError(`template: unmodelled expression ${JSON.stringify(path)}`);
  let cur: unknown = data;
  for (const key of path.slice(1).split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof cur !== 'object') throw new TemplateError(`template: can't evaluate field ${key}`);
    const obj = cur as Record<string, unknown>;
    if (!(key in obj) && !(cur instanceof Map)) {
      // maps (labels) yield "<no value>" for a missing key; structs are an error
      if ((obj as { __map?: boolean }).__map) return undefined;
      throw new TemplateError(`template: can't evaluate field ${key} in type`);
    }
    cur = obj[key];
  }
  return cur;
}

function evaluate(expr: string, data: unknown): unknown {
  const words = expr.split(/\s+/);
  if (words[0] === 'index') {
    const base = lookup(data, words[1]!);
    const idx = words[2]!;
    if (Array.isArray(base)) {
      const n = Number(idx);
      if (n >= base.length) throw new TemplateError(`template: :1:2: executing "" at <${expr}>: error calling index: reflect: slice index out of range`);
      return base[n];
    }
    if (base && typeof base === 'object') return (base as Record<string, unknown>)[idx.replace(/^"|"$/g, '')];
    return undefined;
  }
  if (words[0] === 'json') return JSON.stringify(lookup(data, words[1]!) ?? null);
  if (words.length !== 1) throw new TemplateError(`template: unmodelled action {{${expr}}}`);
  return lookup(data, words[0]!);
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(str).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}:${str(x)}`)
      .join(' ')}]`;
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).filter((k) => k !== '__map').length > 0;
  return true;
}

/** Renders a docker --format template against one object. */
export function renderTemplate(src: string, data: unknown): string {
  const toks = lex(src);
  let p = 0;
  const block = (stop: string[]): { out: (d: unknown) => string; end: string | undefined } => {
    const parts: ((d: unknown) => string)[] = [];
    while (p < toks.length) {
      const t = toks[p]!;
      if ('text' in t) {
        parts.push(() => t.text);
        p++;
        continue;
      }
      const a = t.action;
      if (stop.includes(a)) {
        p++;
        return { out: (d) => parts.map((f) => f(d)).join(''), end: a };
      }
      p++;
      if (a.startsWith('if ')) {
        const cond = a.slice(3).trim();
        const then = block(['else', 'end']);
        const els = then.end === 'else' ? block(['end']) : undefined;
        parts.push((d) => (truthy(evaluate(cond, d)) ? then.out(d) : (els?.out(d) ?? '')));
        continue;
      }
      if (a === 'else' || a === 'end') throw new TemplateError(`template: unexpected {{${a}}}`);
      parts.push((d) => str(evaluate(a, d)));
    }
    if (stop.length) throw new TemplateError('template: unexpected EOF');
    return { out: (d) => parts.map((f) => f(d)).join(''), end: undefined };
  };
  return block([]).out(data);
}
