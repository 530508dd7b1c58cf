/* eslint-disable @typescript-eslint/no-explicit-any */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../../src/errors.js';

export type Raw = Record<string, any>;

/** The valid configuration Kamal's test/configuration/validation_test.rb merges each bad value into. */
export function validConfig(): Raw {
  return {
    service: 'app',
    image: 'app',
    builder: { arch: 'amd64' },
    registry: { username: 'user', password: 'secret' },
    servers: ['1.1.1.1'],
  };
}

/** A minimal config/deploy.yml that validates. */
export const VALID_YAML = [
  'service: app',
  'image: app',
  'servers:',
  '  - 1.1.1.1',
  'registry:',
  '  username: user',
  '  password: secret',
  'builder:',
  '  arch: amd64',
  '',
].join('\n');

const dirs: string[] = [];

/** A temporary project directory holding `files` (path → content). */
export function project(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-config-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** Removes every directory project() made (call from afterAll). */
export function removeProjects(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs `fn`, expects a ConfigError, and returns it. */
export function configError(fn: () => unknown): ConfigError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

/** Same for a promise. */
export async function configErrorAsync(fn: () => Promise<unknown>): Promise<ConfigError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

/** Looks like a JavaScript stack trace (`    at fn (file.js:1:2)`) or an internal error name. */
export const STACK_TRACE = /\n\s+at\s|\bat .+:\d+:\d+\)?$|TypeError|RangeError|ReferenceError|SyntaxError|\[native code\]/m;
