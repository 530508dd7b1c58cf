/**
 * State passed from the main step to the post step, authenticated.
 *
 * The runner takes state from the GITHUB_STATE file and, for older runners, from
 * `::save-state` lines on stdout. A line printed by a host or a container could
 * therefore try to plant state (a folder to delete, a lock to release). Every
 * value is saved with an HMAC-SHA256 tag over its name and value, keyed by 32
 * random bytes kept in a file of a mode-700 folder this run creates in
 * RUNNER_TEMP. The post step accepts that folder only if it has the shape and
 * ownership of one we create, and accepts a value only if its tag matches.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { readRegularFile } from '../fs-safe.js';

/** The state entry naming the key's folder (the only value saved without a tag). */
export const STATE_KEY_DIR = 'state-dir';
const PREFIX = 'kamal-action-state-';
const KEY_FILE = 'key';
const TAG = /^v1\.([0-9a-f]{64})\.([\s\S]*)$/;

export interface StateIO {
  getState(name: string): string;
  saveState(name: string, value: string): void;
}

function tag(key: Buffer, name: string, value: string): string {
  return createHmac('sha256', key).update(`${name}\0${value}`).digest('hex');
}

/** The folder state keys live in: RUNNER_TEMP, else the OS temp folder. */
export function stateBase(env: Record<string, string | undefined>): string {
  return resolve(env.RUNNER_TEMP || tmpdir());
}

export class SignedState {
  readonly dir: string;
  readonly #key: Buffer;
  readonly #io: StateIO;

  private constructor(io: StateIO, dir: string, key: Buffer) {
    this.#io = io;
    this.dir = dir;
    this.#key = key;
  }

  /** Main step: a new key in a new private folder under `base`, its path saved as state. */
  static create(io: StateIO, base: string): SignedState {
    const dir = mkdtempSync(join(base, PREFIX));
    const key = randomBytes(32);
    writeFileSync(join(dir, KEY_FILE), key.toString('hex'), { mode: 0o600, flag: 'wx' });
    io.saveState(STATE_KEY_DIR, dir);
    return new SignedState(io, dir, key);
  }

  /**
   * Post step: the key saved by the main step, or undefined (with the reason) when the
   * state names no folder or one this action did not create.
   */
  static open(io: StateIO, base: string): { state?: SignedState; problem?: string } {
    const dir = io.getState(STATE_KEY_DIR);
    if (dir === '') return { problem: 'no state was saved by the main step' };
    const full = resolve(dir);
    if (dirname(full) !== resolve(base) || !/^kamal-action-state-[A-Za-z0-9]{6}$/.test(basename(full))) {
      return { problem: `the saved state folder is not one this action creates: ${dir}` };
    }
    try {
      const st = lstatSync(full);
      const uid = process.getuid?.();
      if (!st.isDirectory() || (st.mode & 0o077) !== 0 || (uid !== undefined && st.uid !== uid)) {
        return { problem: `the saved state folder is not a private folder of this user: ${dir}` };
      }
      const hex = readRegularFile(join(full, KEY_FILE), 64).toString('utf8');
      if (!/^[0-9a-f]{64}$/.test(hex)) return { problem: `the state key in ${dir} is not valid` };
      return { state: new SignedState(io, full, Buffer.from(hex, 'hex')) };
    } catch (e) {
      return { problem: `the state key cannot be read: ${(e as Error).message}` };
    }
  }

  save(name: string, value: string): void {
    this.#io.saveState(name, `v1.${tag(this.#key, name, value)}.${value}`);
  }

  /** The value saved under `name` by this run's main step; undefined when absent or not authentic. */
  get(name: string): string | undefined {
    const m = TAG.exec(this.#io.getState(name));
    if (!m) return undefined;
    const expected = Buffer.from(tag(this.#key, name, m[2]!), 'hex');
    const given = Buffer.from(m[1]!, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected) ? m[2]! : undefined;
  }

  /** Whether something is saved under `name` that this run's main step did not save. */
  tampered(name: string): boolean {
    return this.#io.getState(name) !== '' && this.get(name) === undefined;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
