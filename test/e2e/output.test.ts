/**
 * What a person reads, over real SSH to the lab's hosts: each remote command with its host, id and
 * run time as Kamal prints it, its output with -v, nothing but host output with -q, and a failure on
 * every host naming every host.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { TerminalReporter, verbosityOf } from '../../src/output/console.js';
import { lab, makeProject } from './helpers.js';

async function run(args: string[], opts: { verbose?: boolean; quiet?: boolean; port?: number } = {}) {
  const l = lab();
  const hosts = l.hosts.slice(0, 3);
  const dir = makeProject({ service: 'outputs', yaml: `servers:\n${hosts.map((h) => `  - ${h.ip}`).join('\n')}\n` });
  if (opts.port) {
    // an SSH port nothing listens on
    const file = join(dir, 'config/deploy.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  keys_only: true\n', `  keys_only: true\n  port: ${opts.port}\n`));
  }
  let out = '';
  let err = '';
  const reporter = new TerminalReporter({
    verbosity: verbosityOf(opts),
    out: { write: (t: string) => (out += t) },
    err: { write: (t: string) => (err += t) },
  });
  const result = await runCli(args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LAB_REGISTRY_PASSWORD: l.registry.password, KAMAL_ACTION_KNOWN_HOSTS: l.ssh.knownHosts },
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    reporter,
  });
  return { result, out, err, hosts: hosts.map((h) => h.ip) };
}

/** Lines with the id and the run time made fixed. */
const steady = (text: string) => text.replace(/\[[0-9a-f]{8}\]/g, '[id]').replace(/Finished in +\d+\.\d{3} seconds/g, 'Finished in N seconds');

describe('CLI output against the lab', () => {
  it('server exec: Running and Finished for every host, then the host output', async () => {
    const r = await run(['server', 'exec', '--version', 'v1', 'echo', 'hello']);
    expect(r.result.exitCode, r.err).toBe(0);
    const lines = steady(r.out).split('\n');
    expect(lines[0]).toBe(`Running 'echo hello' on ${r.hosts.join(', ')}...`);
    for (const h of r.hosts) {
      expect(lines).toContain(`  INFO [id] Running echo hello on ${h}`);
      expect(r.out).toContain(`App Host: ${h}\nhello\n`);
    }
    expect(lines.filter((l) => l === '  INFO [id] Finished in N seconds with exit status 0 (successful).').length).toBeGreaterThanOrEqual(3);
    // each command's id ties its Running and Finished lines
    const ids = [...r.out.matchAll(/^ {2}INFO \[([0-9a-f]{8})\] Running echo hello on /gm)].map((m) => m[1]!);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids)
      expect(r.out).toMatch(new RegExp(`^ {2}INFO \\[${id}\\] Finished in +\\d+\\.\\d{3} seconds with exit status 0 \\(successful\\)\\.$`, 'm'));
  });

  it('-v: the command line and its output at DEBUG', async () => {
    const r = await run(['server', 'exec', '-v', '--version', 'v1', 'echo', 'hello'], { verbose: true });
    expect(r.result.exitCode, r.err).toBe(0);
    expect(steady(r.out)).toContain(' DEBUG [id] Command: echo hello\n');
    expect(steady(r.out)).toContain(' DEBUG [id] \thello\n');
  });

  it('-q: only the host output', async () => {
    const r = await run(['server', 'exec', '-q', '--version', 'v1', 'echo', 'hello'], { quiet: true });
    expect(r.result.exitCode, r.err).toBe(0);
    expect(r.out).toBe('hello\nhello\nhello\n');
  });

  it('SSH refused on every host: the error names all three, once', async () => {
    const r = await run(['server', 'exec', '--version', 'v1', 'true'], { port: 1 });
    expect(r.result.exitCode).toBe(1);
    for (const h of r.hosts) expect(r.err).toContain(`- ${h}: connection refused by ${h}:1`);
    expect(r.err.match(/^Failed: 3 failures:$/gm)).toHaveLength(1);
  });
});
