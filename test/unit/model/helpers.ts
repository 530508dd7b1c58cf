/* eslint-disable @typescript-eslint/no-explicit-any */
import { expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { Configuration, type ConfigurationOptions } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { cmd, render, type Word } from '../../../src/shell.js';

export type Raw = Record<string, any>;

/** Words rendered like Kamal's `args.join(" ")`. */
export function args(words: readonly Word[] | undefined | null): string | undefined {
  return words === undefined || words === null ? undefined : render(cmd(...words));
}

export function config(raw: Raw, opts: ConfigurationOptions & { secretValues?: Record<string, string> } = {}): Configuration {
  const { secretValues, ...rest } = opts;
  return new Configuration(raw, { version: 'missing', secrets: new MapSecretStore(secretValues ?? {}), ...rest });
}

export interface ModelCase {
  name: string;
  run: () => unknown;
  expected?: unknown;
  /** The ConfigError message expected instead of a value. */
  error?: string | RegExp;
}

export function runModelCases(cases: ModelCase[]): void {
  for (const c of cases) {
    it(c.name, () => {
      if (c.error !== undefined) {
        let thrown: unknown;
        try {
          c.run();
        } catch (e) {
          thrown = e;
        }
        expect(thrown, 'expected a ConfigError').toBeInstanceOf(ConfigError);
        if (typeof c.error === 'string') expect((thrown as Error).message).toBe(c.error);
        else expect((thrown as Error).message).toMatch(c.error);
      } else {
        expect(c.run()).toEqual(c.expected);
      }
    });
  }
}

/** Plain data out of Maps for comparisons. */
export function plain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  return value;
}
