import { expect, it } from 'vitest';
import { splitShellWords, type Command } from '../../../src/shell.js';
import { deepWords, evaluate, isThrows, type KamalCase } from './parity.js';

export { throws, type KamalCase } from './parity.js';

function isCommand(v: unknown): v is Command {
  return typeof v === 'object' && v !== null && 't' in v && ['cmd', 'op', 'group'].includes((v as { t: string }).t);
}

/** Registers one vitest test per case. */
export function runCases(cases: KamalCase[]): void {
  const seen = new Map<string, number>();
  for (const c of cases) {
    const n = (seen.get(c.test) ?? 0) + 1;
    seen.set(c.test, n);
    it(`${c.test}${n > 1 ? ` #${n}` : ''}`, () => {
      const o = evaluate(c);
      if (!o.ok) {
        if (isCommand(safe(c.run)) && typeof c.expected === 'string') {
          if (c.words === 'deep') expect(deepWords(o.actual)).toEqual(deepWords(c.expected));
          else if (c.words) expect(splitShellWords(o.actual)).toEqual(splitShellWords(c.expected));
          else expect(o.actual).toBe(c.expected);
        }
        expect(o.detail ?? o.actual).toEqual(c.expected instanceof RegExp ? String(c.expected) : isThrows(c.expected) ? String(c.expected.throws) : c.expected);
      }
      // a case marked as word-equal must not be exactly equal (keeps the marks honest)
      if (c.words && typeof c.expected === 'string') expect(o.exact, 'marked words: but renders exactly like Kamal').toBe(false);
    });
  }
}

function safe(f: () => unknown): unknown {
  try {
    return f();
  } catch {
    return undefined;
  }
}
