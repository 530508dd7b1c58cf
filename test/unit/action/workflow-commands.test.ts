/**
 * Our runner protocol writer against the real @actions/core: the same calls must produce the
 * same bytes on stdout and in the GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files
 * (heredoc delimiters aside, which are random in both).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as real from '@actions/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ours from '../../../src/action/workflow-commands.js';

const VALUES = ['plain', 'a:b,c%d', 'multi\nline\r\nvalue', '', '{"json":true}', 'ünïcödé ✓', '::error::not a command', '%0A literal'];

type Script = (c: {
  setSecret(v: string): void;
  setOutput(n: string, v: string): void;
  saveState(n: string, v: string): void;
  info(m: string): void;
  error(m: string, p?: { title?: string }): void;
  warning(m: string, p?: { title?: string }): void;
  setFailed(m: string): void;
  startGroup(n: string): void;
  endGroup(): void;
  summary(md: string): Promise<void>;
}) => Promise<void>;

const script: Script = async (c) => {
  for (const v of VALUES) {
    c.setSecret(v);
    c.setOutput(`out-${VALUES.indexOf(v)}`, v);
    c.saveState(`state-${VALUES.indexOf(v)}`, v);
    c.info(v);
    c.error(v);
    c.error(v, { title: `title ${v}` });
    c.error(v, {});
    c.warning(v, { title: undefined });
    c.startGroup(v);
    c.endGroup();
    await c.summary(`## ${v}\n`);
  }
  c.setFailed('failed: a, b: c\nd');
};

describe('workflow commands match @actions/core', () => {
  const saved = { ...process.env };
  let written: string[] = [];
  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...saved };
    process.exitCode = 0;
  });

  // @actions/core remembers the summary file of its first write: one path for every run
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'wfc-summary-')), 'summary');

  async function run(which: 'real' | 'ours', withFiles: boolean) {
    const dir = mkdtempSync(join(tmpdir(), `wfc-${which}-`));
    const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: summaryFile };
    for (const f of Object.values(files)) writeFileSync(f, '');
    delete process.env.GITHUB_OUTPUT;
    delete process.env.GITHUB_STATE;
    if (withFiles) Object.assign(process.env, { GITHUB_OUTPUT: files.GITHUB_OUTPUT, GITHUB_STATE: files.GITHUB_STATE });
    process.env.GITHUB_STEP_SUMMARY = files.GITHUB_STEP_SUMMARY;
    written = [];
    process.exitCode = 0;
    if (which === 'real') {
      await script({
        setSecret: real.setSecret,
        setOutput: real.setOutput,
        saveState: real.saveState,
        info: real.info,
        error: (m, p) => (p === undefined ? real.error(m) : real.error(m, p)),
        warning: (m, p) => (p === undefined ? real.warning(m) : real.warning(m, p)),
        setFailed: real.setFailed,
        startGroup: real.startGroup,
        endGroup: real.endGroup,
        summary: async (md) => {
          await real.summary.addRaw(md).write();
        },
      });
    } else {
      await script({
        setSecret: ours.setSecret,
        setOutput: ours.setOutput,
        saveState: ours.saveState,
        info: ours.info,
        error: (m, p) => (p === undefined ? ours.error(m) : ours.error(m, p)),
        warning: (m, p) => (p === undefined ? ours.warning(m) : ours.warning(m, p)),
        setFailed: ours.setFailed,
        startGroup: ours.startGroup,
        endGroup: ours.endGroup,
        summary: async (md) => ours.appendSummary(md),
      });
    }
    const undelimit = (s: string) => s.replace(/ghadelimiter_[0-9a-f-]{36}/g, 'ghadelimiter_X');
    return {
      stdout: written.join(''),
      exitCode: process.exitCode,
      output: undelimit(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      state: undelimit(readFileSync(files.GITHUB_STATE, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    };
  }

  it.each([true, false])('with file commands: %s', async (withFiles) => {
    const a = await run('real', withFiles);
    const b = await run('ours', withFiles);
    ours.endBlock();
    // Ours puts log text between stop-commands markers; without them the bytes are @actions/core's.
    expect({ ...b, stdout: withoutBlocks(b.stdout) }).toEqual(a);
    expect(b.exitCode).toBe(1);
    expect(b.stdout).toContain('::add-mask::multi%0Aline%0D%0Avalue\n');
    expect(b.stdout).toContain('::error title=title a%3Ab%2Cc%25d::a:b,c%25d\n');
    if (withFiles) expect(b.output).toContain('out-2<<ghadelimiter_X\nmulti\nline\r\nvalue\nghadelimiter_X\n');
    else expect(b.stdout).toContain('::set-output name=out-0::plain\n');
  });

  it('reads inputs and state as @actions/core does', () => {
    Object.assign(process.env, { 'INPUT_SSH-PRIVATE-KEY': '  key\n', INPUT_MY_INPUT: 'x', 'STATE_lock-held': 'true' });
    for (const name of ['ssh-private-key', 'my input', 'missing']) expect(ours.getInput(name)).toBe(real.getInput(name));
    expect(ours.getState('lock-held')).toBe(real.getState('lock-held'));
    expect(ours.getState('nope')).toBe('');
  });
});

/** Our output without the stop-commands markers (each must open and close a block in turn). */
function withoutBlocks(stdout: string): string {
  const lines = stdout.split('\n');
  const out: string[] = [];
  let token: string | undefined;
  for (const line of lines) {
    const open = /^::stop-commands::([0-9a-f]{48})$/.exec(line);
    if (open) {
      expect(token).toBeUndefined();
      token = open[1];
      continue;
    }
    if (token !== undefined && line === `::${token}::`) {
      token = undefined;
      continue;
    }
    out.push(line);
  }
  expect(token).toBeUndefined();
  return out.join('\n');
}

describe('log text cannot issue workflow commands', () => {
  let written: string[] = [];
  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
  });
  afterEach(() => {
    ours.endBlock();
    vi.restoreAllMocks();
  });

  it('prints text inside a stop-commands block and closes it before our own commands', () => {
    ours.info('::error::pwned');
    ours.info('::add-mask::x\n::save-state name=lock-held::true');
    ours.startGroup('deploy');
    ours.info('::set-output name=x::y');
    ours.endBlock();
    const lines = written.join('').split('\n');
    const t1 = /^::stop-commands::([0-9a-f]{48})$/.exec(lines[0]!)![1]!;
    const t2 = /^::stop-commands::([0-9a-f]{48})$/.exec(lines[6]!)![1]!;
    expect(t1).not.toBe(t2);
    expect(lines).toEqual([
      `::stop-commands::${t1}`,
      '::error::pwned',
      '::add-mask::x',
      '::save-state name=lock-held::true',
      `::${t1}::`,
      '::group::deploy',
      `::stop-commands::${t2}`,
      '::set-output name=x::y',
      `::${t2}::`,
      '',
    ]);
  });

  it('a text line that guesses at ending the block does not end it', () => {
    ours.info('::stop-commands::abc');
    ours.info('::abc::');
    ours.info('::error::still text');
    ours.endBlock();
    const lines = written.join('').split('\n');
    const token = /^::stop-commands::([0-9a-f]{48})$/.exec(lines[0]!)![1]!;
    expect(lines).toEqual([`::stop-commands::${token}`, '::stop-commands::abc', '::abc::', '::error::still text', `::${token}::`, '']);
  });
});
