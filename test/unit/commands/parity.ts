/**
 * Table-driven parity checks against Kamal's command tests: each case builds
 * a command and compares its rendering with the string Kamal's test expects.
 */
import { render, splitShellWords, type Command } from '../../../src/shell.js';

export interface KamalCase {
  /** The Kamal test name (several cases may share one test). */
  test: string;
  run: () => unknown;
  /** Kamal's expected string (or pattern, for its assert_match tests). */
  expected: string | RegExp | unknown;
  /**
   * How the rendering is compared when it legitimately differs from Kamal's
   * text: `true` compares shell words, `'deep'` also splits nested scripts.
   */
  words?: boolean | 'deep';
}

export interface Outcome {
  ok: boolean;
  exact: boolean;
  actual: string;
  detail?: string;
}

function isCommand(v: unknown): v is Command {
  return typeof v === 'object' && v !== null && 't' in v && ['cmd', 'op', 'group'].includes((v as { t: string }).t);
}

/** Splits into words, then splits again any word that itself is a script. */
export function deepWords(s: string): unknown[] {
  return splitShellWords(s).map((w) => {
    if (!/\s/.test(w)) return w;
    try {
      const inner = splitShellWords(w);
      return inner.length > 1 ? deepWords(w) : w;
    } catch {
      return w;
    }
  });
}

/** Expect the call to throw an error whose message matches. */
export function throws(message: RegExp): { throws: RegExp } {
  return { throws: message };
}

export function isThrows(v: unknown): v is { throws: RegExp } {
  return typeof v === 'object' && v !== null && 'throws' in v && (v as { throws: unknown }).throws instanceof RegExp;
}

export function evaluate(c: KamalCase): Outcome {
  let value: unknown;
  try {
    value = c.run();
  } catch (e) {
    const message = (e as Error).message;
    if (isThrows(c.expected)) {
      const ok = c.expected.throws.test(message);
      return { ok, exact: ok, actual: `threw: ${message}` };
    }
    return { ok: false, exact: false, actual: '', detail: `threw: ${message}` };
  }
  if (isThrows(c.expected)) return { ok: false, exact: false, actual: 'did not throw' };
  if (isCommand(value)) {
    const actual = render(value);
    if (c.expected instanceof RegExp) {
      const ok = c.expected.test(actual);
      return { ok, exact: ok, actual };
    }
    if (typeof c.expected !== 'string') return { ok: false, exact: false, actual, detail: 'expected a string' };
    if (actual === c.expected) return { ok: true, exact: true, actual };
    if (c.words === 'deep') {
      const ok = JSON.stringify(deepWords(actual)) === JSON.stringify(deepWords(c.expected));
      return { ok, exact: false, actual };
    }
    if (c.words) {
      const ok = JSON.stringify(splitShellWords(actual)) === JSON.stringify(splitShellWords(c.expected));
      return { ok, exact: false, actual };
    }
    return { ok: false, exact: false, actual };
  }
  // non-command values (paths, env hashes, nil)
  const ok = JSON.stringify(value) === JSON.stringify(c.expected);
  return { ok, exact: ok, actual: JSON.stringify(value) };
}

/** Per Kamal test: passes when all of its cases pass. */
export function tally(groups: Record<string, KamalCase[]>): {
  tests: number;
  passed: number;
  exact: number;
  failed: string[];
  rate: number;
} {
  let tests = 0;
  let passed = 0;
  let exact = 0;
  const failed: string[] = [];
  for (const [domain, cases] of Object.entries(groups)) {
    const byTest = new Map<string, Outcome[]>();
    for (const c of cases) byTest.set(c.test, [...(byTest.get(c.test) ?? []), evaluate(c)]);
    for (const [test, outcomes] of byTest) {
      tests++;
      if (outcomes.every((o) => o.ok)) passed++;
      else failed.push(`${domain}: ${test}`);
      if (outcomes.every((o) => o.exact)) exact++;
    }
  }
  return { tests, passed, exact, failed, rate: tests === 0 ? 0 : passed / tests };
}
