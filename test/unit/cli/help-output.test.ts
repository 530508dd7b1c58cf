/** Every command's help shows the options that apply to every command, as Kamal's help does; `plan` is listed. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { runCli } from '../../../src/cli/run.js';

async function help(args: string[]): Promise<string> {
  let out = '';
  const r = await runCli(args, { env: {}, out: (s) => (out += s), err: (s) => (out += s) });
  expect(r.exitCode).toBe(0);
  return out;
}

/** The global option lines of Kamal's class options, as our help writes them. */
const GLOBAL = [
  /^ {2}-v, --verbose +Detailed logging$/m,
  /^ {2}-q, --quiet +Minimal logging$/m,
  /^ {2}--version <version> +Run commands against a specific app/m,
  /^ {2}-p, --primary +Run commands only on primary host/m,
  /^ {2}-h, --hosts <hosts> +Run commands on these hosts/m,
  /^ {2}-r, --roles <roles> +Run commands on these roles/m,
  /^ {2}-c, --config-file <file> +Path to config file/m,
  /^ {2}-d, --destination <destination> +Specify destination/m,
  /^ {2}-H, --skip-hooks +Don't run hooks$/m,
  /^ {2}--lock-wait +Wait for the deploy lock/m,
  /^ {2}--lock-wait-timeout <seconds> +Maximum seconds/m,
  /^ {2}--lock-wait-interval <seconds> +Seconds between deploy lock polls/m,
];

function leaves(c: Command, path: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of c.commands) {
    if ((sub as unknown as { _hidden?: boolean })._hidden || sub.name() === 'help') continue;
    const p = [...path, sub.name()];
    out.push(p);
    out.push(...leaves(sub, p));
  }
  return out;
}

describe('help', () => {
  it('deploy --help: its own options, then the global ones', async () => {
    const text = await help(['deploy', '--help']);
    expect(text).toMatch(/^Usage: kamal-action deploy \[options\]\n\nDeploy app to servers\n\nOptions:\n {2}-P, --skip-push +Skip image build and push\n/);
    const global = text.split('\nGlobal Options:\n')[1] ?? '';
    for (const line of GLOBAL) expect(global).toMatch(line);
  });

  it('every command and group shows the global options', () => {
    const program = buildProgram(() => undefined);
    const paths = leaves(program);
    expect(paths.length).toBeGreaterThan(60);
    const missing: string[] = [];
    for (const path of paths) {
      let c: Command = program;
      for (const name of path) c = c.commands.find((x) => x.name() === name)!;
      const text = c.helpInformation();
      if (!text.includes('\nGlobal Options:\n') || !GLOBAL.every((l) => l.test(text))) missing.push(path.join(' '));
    }
    expect(missing).toEqual([]);
  });

  it('help lists plan; help plan explains it', async () => {
    const text = await help(['help']);
    expect(text).toMatch(/^ {2}plan \[options\] <command\.\.\.> +Print the commands a command would run,/m);
    const plan = await help(['help', 'plan']);
    expect(plan).toMatch(/^Usage: kamal-action plan \[--json\] <command> \[options\]\n/);
    expect(plan).toMatch(/^ {2}--json +Print the planned commands as JSON$/m);
  });

  it('plan still runs the command that follows it as a dry run', async () => {
    let err = '';
    const r = await runCli(['plan'], { env: {}, err: (s) => (err += s) });
    expect(r.exitCode).toBe(1);
    expect(err).toBe('plan needs a command, e.g. `kamal-action plan deploy --version abc --json`\n');
  });
});
