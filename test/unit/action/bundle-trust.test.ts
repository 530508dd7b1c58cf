/**
 * The action's trust boundaries through the real bundle, run as a runner runs it: INPUT_*
 * variables, the GITHUB_STATE / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, stdout read as the
 * runner reads it. No lab needed: a pre-connect hook plays the untrusted output (it prints
 * workflow commands, secrets in several encodings and its environment) and the host is an
 * unused local port, so the run fails right after the hook.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAIN, POST, inputEnv, printedForms, readFileCommands, runNode, runnerView } from './runner-log.js';

const APP_SECRET = `app"se\\cret w/ +&=${Date.now().toString(36)}`;
const REGISTRY_PASSWORD = `reg-pass-${Math.random().toString(36).slice(2, 12)}`;
const UNUSED_SECRET = `unused-${Math.random().toString(36).slice(2, 12)}`;
const GITHUB_TOKEN = `ghs_${Math.random().toString(36).slice(2, 14)}`;
const RUNTIME_TOKEN = `runtime-${Math.random().toString(36).slice(2, 14)}`;
const ID_TOKEN = `idtoken-${Math.random().toString(36).slice(2, 14)}`;
const SSH_KEY = ssh2.utils.generateKeyPairSync('ed25519').private;

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let workspace: string;

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'bundle-trust-'));
  mkdirSync(join(workspace, 'config'));
  mkdirSync(join(workspace, '.kamal/hooks'), { recursive: true });
  writeFileSync(
    join(workspace, 'config/deploy.yml'),
    `service: trust
image: acme/trust
registry:
  server: registry.invalid:5000
  username: deployer
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
servers:
  - 127.0.0.1
ssh:
  port: ${await closedPort()}
env:
  secret:
    - APP_SECRET
`,
  );
  const forms = printedForms(APP_SECRET);
  writeFileSync(
    join(workspace, '.kamal/hooks/pre-connect'),
    `#!/bin/sh
echo '::error::pwned'
echo '::add-mask::x'
echo '::save-state name=lock-held::true'
echo '::set-output name=x::y'
echo '::stop-commands::guessed'
echo '::guessed::'
echo '::warning::pwned again'
${forms.map((f, i) => `printf '%s\\n' 'form${i}=${f.replace(/'/g, `'\\''`)}'`).join('\n')}
printf 'env-secret=%s\\n' "$APP_SECRET"
printf 'registry=%s\\n' "$KAMAL_REGISTRY_PASSWORD" | base64
echo "unused=\${UNUSED_SECRET:-absent}"
echo '--- env'
env | sort
echo '--- end'
`,
  );
  chmodSync(join(workspace, '.kamal/hooks/pre-connect'), 0o755);
});

interface StepRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  runnerTemp: string;
}

async function step(script: string, inputs: Record<string, string>, extra: Record<string, string> = {}, state: Record<string, string> = {}): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-step-'));
  const files = { output: join(dir, 'output'), state: join(dir, 'state'), summary: join(dir, 'summary') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_RUN_ID: '1',
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: dir,
    ACTIONS_RUNTIME_TOKEN: RUNTIME_TOKEN,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: ID_TOKEN,
    ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/idtoken',
    ACTIONS_CACHE_URL: 'http://127.0.0.1:9/cache/',
    ...inputEnv(inputs),
    ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
    ...extra,
  };
  const r = await runNode(script, env);
  return {
    ...r,
    outputs: readFileCommands(files.output),
    state: readFileCommands(files.state),
    summary: readFileSync(files.summary, 'utf8'),
    runnerTemp: env.RUNNER_TEMP!,
  };
}

const baseInputs = {
  command: 'lock status',
  'ssh-private-key': SSH_KEY,
  'ssh-known-hosts': '127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  secrets: JSON.stringify({ KAMAL_REGISTRY_PASSWORD: REGISTRY_PASSWORD, APP_SECRET, UNUSED_SECRET, github_token: GITHUB_TOKEN }),
  'github-token': GITHUB_TOKEN,
};

describe('the bundle: command words cannot weaken trust (item: inputs win)', () => {
  it.each<[string, string, string]>([
    ['lock status --host-key-checking off', 'command', 'use the ssh-host-key-checking input instead'],
    ['lock status --host-key-checking=off', 'command', 'use the ssh-host-key-checking input instead'],
    ['deploy --known-hosts /dev/null', 'command', 'use the ssh-known-hosts input instead'],
    ['deploy -c /etc/evil.yml', 'command', 'use the config-file input instead'],
    ['deploy --config-file=../../evil.yml', 'command', 'use the config-file input instead'],
  ])('%s is refused before anything runs', async (command, input, advice) => {
    const r = await step(MAIN, { ...baseInputs, command });
    expect(r.exitCode).toBe(1);
    const view = runnerView(r.stdout);
    const errors = view.commands.filter((c) => c.name === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.value).toContain(`Input '${input}'`);
    expect(errors[0]!.value).toContain(advice);
    // nothing ran: the hook never printed
    expect(r.stdout).not.toContain('pwned');
    // no state but the mark that tells the post step from the main step
    expect(r.state).toEqual({ isPost: 'true' });
  });
});

describe('the bundle: output from a hook (untrusted text) against the runner log', () => {
  let main: StepRun;
  let view: ReturnType<typeof runnerView>;
  beforeAll(async () => {
    main = await step(MAIN, baseInputs);
    view = runnerView(main.stdout);
  });

  it('the run reached the hook and failed on the host', () => {
    expect(main.exitCode).toBe(1);
    expect(view.text.join('\n')).toContain('::error::pwned');
  });

  it('no line of the hook is acted on: only our own masks, groups and the final annotation', () => {
    expect(view.closed).toBe(true);
    // ours: masks, groups, annotations, and the PATH entry for `kamal` in later steps (a folder of RUNNER_TEMP)
    for (const c of view.commands) {
      const own = ['add-mask', 'group', 'endgroup', 'error', 'warning'].includes(c.name) || (c.name === 'add-path' && c.value.startsWith(main.runnerTemp));
      expect(own, c.line).toBe(true);
    }
    expect(view.commands.filter((c) => /pwned/.test(c.value))).toEqual([]);
    expect(view.commands.filter((c) => c.name === 'add-mask' && c.value === 'x')).toEqual([]);
    expect(view.commands.filter((c) => ['save-state', 'set-output'].includes(c.name))).toEqual([]);
    // the errors are ours: one annotation naming the host that failed
    expect(view.commands.filter((c) => c.name === 'error')).toHaveLength(1);
  });

  it('our masks come before any text', () => {
    const firstText = view.events.findIndex((e) => e.kind === 'text');
    expect(firstText).toBeGreaterThan(0);
    const early = view.events.slice(0, firstText).flatMap((e) => (e.kind === 'command' && e.name === 'add-mask' ? [e.value] : []));
    for (const v of [REGISTRY_PASSWORD, UNUSED_SECRET, GITHUB_TOKEN, RUNTIME_TOKEN, ID_TOKEN]) expect(early).toContain(v);
    expect(view.events.slice(firstText).filter((e) => e.kind === 'command' && e.name === 'add-mask')).toEqual([]);
  });

  it('no secret, in any printed form, reaches the log, outputs, state or summary', () => {
    const visible = [
      view.text.join('\n'),
      ...view.commands.filter((c) => c.name !== 'add-mask').map((c) => c.value),
      JSON.stringify(main.outputs),
      JSON.stringify(main.state),
      main.summary,
    ].join('\n');
    for (const secret of [APP_SECRET, REGISTRY_PASSWORD, UNUSED_SECRET, GITHUB_TOKEN, RUNTIME_TOKEN, ID_TOKEN]) {
      for (const form of printedForms(secret)) expect(visible).not.toContain(form);
    }
    for (const line of SSH_KEY.split('\n').filter((l) => l.length > 20)) expect(visible).not.toContain(line);
    expect(visible).toContain('form0=[REDACTED]');
    expect(visible).toContain('form1=[REDACTED]');
    expect(visible).toContain('form2=[REDACTED]');
    expect(visible).toContain('form3=[REDACTED]');
  });

  it('the hook saw no input, no runner token, no github token and no secret the files do not name', () => {
    const text = view.text.join('\n');
    const env = text.slice(text.indexOf('--- env'), text.indexOf('--- end'));
    expect(env).not.toMatch(/^INPUT_/m);
    expect(env).not.toMatch(/^STATE_/m);
    expect(env).not.toMatch(/^ACTIONS_(RUNTIME_TOKEN|ID_TOKEN_REQUEST_TOKEN|ID_TOKEN_REQUEST_URL|CACHE_URL)=/m);
    expect(env).not.toMatch(/^(UNUSED_SECRET|github_token|GITHUB_TOKEN)=/m);
    expect(text).toContain('unused=absent');
    // the secrets the config names are there (and redacted in the log)
    expect(env).toMatch(/^APP_SECRET=\[REDACTED\]$/m);
    expect(env).toMatch(/^KAMAL_REGISTRY_PASSWORD=\[REDACTED\]$/m);
  });

  it('the post step ignores state it cannot authenticate (a planted lock or folder)', async () => {
    // RUNNER_TEMP is the job's: the same for the main and the post step
    const post = await step(POST, baseInputs, { RUNNER_TEMP: main.runnerTemp }, { ...main.state, 'lock-held': 'true', 'ssh-dir': tmpdir() });
    const pview = runnerView(post.stdout);
    expect(post.exitCode).toBe(0);
    expect(pview.commands.filter((c) => c.name === 'warning').map((c) => c.value)).toEqual([
      'Post step: ignoring state this run did not save: lock-held, ssh-dir',
    ]);
    expect(post.stdout).not.toContain('Releasing the deploy lock');
  });
});

describe('the bundle: secrets that would change how programs run are refused', () => {
  it.each<[Record<string, string>, string]>([
    [{ secrets: 'PATH=/tmp/evil' }, "Input 'secrets' cannot set 'PATH' changes how programs run"],
    [{ secrets: JSON.stringify({ LD_PRELOAD: '/tmp/x.so' }) }, "Input 'secrets' cannot set 'LD_PRELOAD' (LD_*)"],
    [{ secrets: 'NODE_OPTIONS=--require /tmp/x.js' }, "Input 'secrets' cannot set 'NODE_OPTIONS' changes how programs run"],
    [{ secrets: 'X=1', 'secrets-env': 'X,BASH_ENV' }, "Input 'secrets-env' cannot export 'BASH_ENV' changes how programs run"],
  ])('%j', async (inputs, message) => {
    const r = await step(MAIN, { ...baseInputs, ...inputs });
    expect(r.exitCode).toBe(1);
    const errors = runnerView(r.stdout).commands.filter((c) => c.name === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.value).toContain(message);
    expect(r.stdout).not.toContain('pwned');
  });
});
