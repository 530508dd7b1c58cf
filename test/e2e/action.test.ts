/**
 * Runs the committed action bundle exactly as a runner does: `node dist/action/index.js`
 * with INPUT_* variables and the GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files,
 * then the same file as the post step with STATE_* read back from the state file. Against the
 * lab's hosts over real SSH, with a local stand-in for the GitHub REST API.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, httpGet, lab, makeProject, onHost, proxyRunYaml, resetHosts, type LabHost } from './helpers.js';
import { startFakeGithub, type FakeGithub, type RecordedRequest } from '../unit/action/github-server.js';
import { inputEnv, readFileCommands } from '../unit/action/runner-log.js';
import {
  cancelLikeRunner,
  hostSh,
  proxyDeployPending,
  runningContainers,
  tally,
  waitUntil,
  watchServing,
  stateValue,
  type Cancel,
  type Served,
} from './cancel-helpers.js';

const HOST = 'action.lab.test';
const SERVICE = 'actapp';
const MAIN = join(ROOT, 'dist/action/index.js');
const POST = MAIN;
const SHA = '1234567890abcdef1234567890abcdef12345678';

interface StepRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

interface ActionRun {
  main: StepRun;
  post: StepRun;
}

interface SpawnOptions {
  env: Record<string, string>;
  /** Called with the stdout so far on every chunk; used to time signals. */
  onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void;
}

function runNode(script: string, opts: SpawnOptions): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      opts.onStdout?.(stdout, child);
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
}

describe('the action bundle against the lab', () => {
  let dir: string;
  let gh: FakeGithub;
  let runnerDir: string;
  let dockerConfig: string;
  const runs: ActionRun[] = [];
  const secrets = {
    KAMAL_REGISTRY_PASSWORD: '',
    APP_SECRET: `app-secret-${randomBytes(12).toString('hex')}`,
  };
  const githubToken = `ghs_${randomBytes(16).toString('hex')}`;
  const runtimeToken = `runtime-${randomBytes(16).toString('hex')}`;
  let sshKey = '';
  let knownHosts = '';
  const web = (): LabHost[] => lab().hosts.slice(0, 2);

  function config(): string {
    const l = lab();
    return `service: ${SERVICE}
image: lab/${SERVICE}
registry:
  server: ${l.registry.server}
  username: ${l.registry.username}
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
  args:
    VERSION: <%= ENV["VERSION"] %>
servers:
  web:
    hosts:
${web()
  .map((h) => `      - ${h.ip}`)
  .join('\n')}
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
env:
  clear:
    FAIL_HEALTH: <%= ENV.fetch("FAIL_HEALTH", "0") %>
    BOOT_DELAY: <%= ENV.fetch("BOOT_DELAY", "0") %>
  secret:
    - APP_SECRET
deploy_timeout: <%= ENV.fetch("DEPLOY_TIMEOUT", "10") %>
drain_timeout: 2
readiness_delay: 0
retain_containers: 5
`;
  }

  beforeAll(async () => {
    if (!existsSync(MAIN) || !existsSync(POST)) throw new Error('dist/action/index.js is missing: run npm run build');
    const l = lab();
    resetHosts();
    secrets.KAMAL_REGISTRY_PASSWORD = l.registry.password;
    sshKey = readFileSync(l.ssh.key, 'utf8');
    knownHosts = readFileSync(l.ssh.knownHosts, 'utf8');
    dir = makeProject({
      service: SERVICE,
      yaml: '',
      secrets: 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\nAPP_SECRET=$APP_SECRET\n',
    });
    // The action passes the key through its input: the configuration names none.
    writeFileSync(join(dir, 'config/deploy.yml'), config());
    gh = await startFakeGithub({ firstDeploymentId: 500 });
    runnerDir = mkdtempSync(join(tmpdir(), 'action-runner-'));
    dockerConfig = join(runnerDir, 'docker-config');
    mkdirSync(dockerConfig);
  });

  afterAll(async () => {
    await gh?.close();
  });

  /** One step with its post step, as the runner runs them. */
  async function action(inputs: Record<string, string>, extraEnv: Record<string, string> = {}, onStdout?: SpawnOptions['onStdout']): Promise<ActionRun> {
    const stepDir = mkdtempSync(join(runnerDir, 'step-'));
    const files = { output: join(stepDir, 'output'), state: join(stepDir, 'state'), summary: join(stepDir, 'summary') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DOCKER_CONFIG: dockerConfig,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_WORKSPACE: dir,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: SHA,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_API_URL: gh.url,
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      RUNNER_TEMP: stepDir,
      ACTIONS_RUNTIME_TOKEN: runtimeToken,
      ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results/',
      ACTIONS_CACHE_URL: 'http://127.0.0.1:9/cache/',
      ...extraEnv,
    };
    const withInputs = {
      ssh: { 'ssh-private-key': sshKey, 'ssh-known-hosts': knownHosts },
      common: { secrets: JSON.stringify(secrets), 'github-token': githubToken, environment: 'lab', 'environment-url': `http://${HOST}/` },
    };
    const allInputs = { ...withInputs.ssh, ...withInputs.common, ...inputs };
    const main = await runNode(MAIN, {
      env: { ...base, ...inputEnv(allInputs), GITHUB_OUTPUT: files.output, GITHUB_STATE: files.state, GITHUB_STEP_SUMMARY: files.summary },
      onStdout,
    });
    const state = readFileCommands(files.state);
    const mainRun: StepRun = { ...main, outputs: readFileCommands(files.output), state, summary: readFileSync(files.summary, 'utf8') };

    const postFiles = { output: join(stepDir, 'post-output'), state: join(stepDir, 'post-state'), summary: join(stepDir, 'post-summary') };
    for (const f of Object.values(postFiles)) writeFileSync(f, '');
    const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    const post = await runNode(POST, {
      env: {
        ...base,
        ...inputEnv(allInputs),
        ...stateEnv,
        GITHUB_OUTPUT: postFiles.output,
        GITHUB_STATE: postFiles.state,
        GITHUB_STEP_SUMMARY: postFiles.summary,
      },
    });
    const postRun: StepRun = {
      ...post,
      outputs: readFileCommands(postFiles.output),
      state: readFileCommands(postFiles.state),
      summary: readFileSync(postFiles.summary, 'utf8'),
    };
    const run = { main: mainRun, post: postRun };
    // Kept next to the step's files for a look after a failure.
    for (const [name, step] of Object.entries(run)) {
      writeFileSync(join(stepDir, `${name}.stdout`), step.stdout);
      writeFileSync(join(stepDir, `${name}.stderr`), step.stderr);
    }
    runs.push(run);
    return run;
  }

  const statusesOf = (id: number): RecordedRequest[] => gh.requests.filter((r) => r.path === `/repos/acme/shop/deployments/${id}/statuses`);
  const serving = async (): Promise<string[]> => Promise.all(web().map(async (h) => (await httpGet(h.ip, '/', HOST)).body.trim()));
  const lockDirs = (): string => onHost(web()[0]!, `ls -d /root/.kamal/lock-${SERVICE}* 2>/dev/null || true`);
  const explain = (r: StepRun): string =>
    `exit ${r.exitCode} ${r.signal ?? ''} (files in ${runnerDir})\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

  let v2Outputs: Record<string, string> = {};

  it('deploy sets the outputs, writes the summary and records the deployment', async () => {
    const first = await action({ version: 'v1' }, { VERSION: 'v1' });
    expect(first.main.exitCode, explain(first.main)).toBe(0);
    expect(await serving()).toEqual(['v1', 'v1']);

    const before = gh.requests.length;
    const r = await action({ version: 'v2' }, { VERSION: 'v2' });
    expect(r.main.exitCode, explain(r.main)).toBe(0);
    expect(r.post.exitCode, explain(r.post)).toBe(0);
    expect(await serving()).toEqual(['v2', 'v2']);

    const o = r.main.outputs;
    v2Outputs = o;
    expect(o.version).toBe('v2');
    expect(o['previous-version']).toBe('v1');
    expect(o.image).toBe(`${lab().registry.server}/lab/${SERVICE}:v2`);
    expect(o.hosts).toBe(
      web()
        .map((h) => h.ip)
        .join(','),
    );
    expect(o.roles).toBe('web');
    expect(Number(o['duration-seconds'])).toBeGreaterThan(0);
    const report = JSON.parse(o.report!);
    expect(report).toMatchObject({ result: 'success', version: 'v2', previousVersion: 'v1' });
    expect(
      report.boots.map((b: { host: string; previousVersion: string; version: string; ok: boolean }) => [b.host, b.previousVersion, b.version, b.ok]),
    ).toEqual(web().map((h) => [h.ip, 'v1', 'v2', true]));
    expect(report.timeline.length).toBeGreaterThan(3);

    // Summary: per host previous/new version, a gantt timeline.
    for (const h of web()) expect(r.main.summary).toContain(`| ${h.ip} | web | \`v1\` | \`v2\` | ✅ booted |`);
    expect(r.main.summary).toContain('```mermaid\ngantt');
    // Log grouped by step and host.
    expect(r.main.stdout).toMatch(new RegExp(`::group::boot web on ${web()[0]!.ip.replace(/\./g, '\\.')}`));

    // The deployment: created, in_progress, success.
    const calls = gh.requests.slice(before);
    expect(calls.map((c) => `${c.method} ${c.path} ${(c.body as { state?: string }).state ?? ''}`)).toEqual([
      'POST /repos/acme/shop/deployments ',
      `POST /repos/acme/shop/deployments/${o['deployment-id']}/statuses in_progress`,
      `POST /repos/acme/shop/deployments/${o['deployment-id']}/statuses success`,
    ]);
    expect(calls[0]!.body).toMatchObject({
      ref: SHA,
      environment: 'lab',
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      payload: { version: 'v2', previous: 'v1' },
    });
    expect(calls[0]!.authorization).toBe(`token ${githubToken}`);
    expect(calls[2]!.body).toMatchObject({ environment_url: `http://${HOST}/`, log_url: 'https://github.example/acme/shop/actions/runs/4242' });

    // The post step had nothing to release and removed the key.
    // (state values carry the main step's signature)
    expect(stateValue(r.main.state, 'lock-held')).toBe('false');
    expect(stateValue(r.main.state, 'ssh-dir')).toBeTruthy();
    expect(existsSync(stateValue(r.main.state, 'ssh-dir')!)).toBe(false);
    expect(lockDirs()).toBe('');
  });

  it('rollback from the outputs of the previous run restores it', async () => {
    const r = await action({ command: 'rollback', version: v2Outputs['previous-version']! });
    expect(r.main.exitCode, explain(r.main)).toBe(0);
    expect(await serving()).toEqual(['v1', 'v1']);
    expect(r.main.outputs.version).toBe('v1');
    expect(r.main.outputs['previous-version']).toBe('v2');
    const created = gh.requests.filter((q) => q.path === '/repos/acme/shop/deployments').at(-1)!;
    expect(created.body).toMatchObject({ task: 'deploy:rollback', payload: { version: 'v1', previous: 'v2' } });

    // Without a version: back to the newest version still on the hosts.
    const back = await action({ command: 'rollback' });
    expect(back.main.exitCode, explain(back.main)).toBe(0);
    expect(await serving()).toEqual(['v2', 'v2']);
    expect(back.main.outputs).toMatchObject({ version: 'v2', 'previous-version': 'v1' });
  });

  it('a failed health check fails the step with an annotation and keeps the old version', async () => {
    const r = await action({ version: 'bad' }, { VERSION: 'bad', FAIL_HEALTH: '1' });
    expect(r.main.exitCode, explain(r.main)).toBe(1);
    expect(r.post.exitCode, explain(r.post)).toBe(0);
    expect(await serving()).toEqual(['v2', 'v2']);
    const annotation = r.main.stdout.split('\n').find((l) => l.startsWith('::error '));
    // the title names every host the deploy failed on
    expect(annotation).toMatch(/^::error title=kamal-action deploy failed on 127\.0\.0\.\d+(%2C 127\.0\.0\.\d+)*::/);
    expect(annotation).toMatch(/target failed to become healthy/);
    expect(annotation).toMatch(/Last log lines of web on 127\.0\.0\.\d+/); // the container's last log lines
    expect(annotation).toMatch(/url:\/up/);
    expect(r.main.stdout.split('\n').filter((l) => l.startsWith('::error ')).length).toBe(1);
    expect(r.main.summary).toContain('## ❌');
    expect(r.main.summary).toContain('### Failure');
    expect(r.main.summary).toMatch(/- \*\*Hosts?:\*\* `127\.0\.0\.\d+`(, `127\.0\.0\.\d+`)*/);
    expect(r.main.summary).toContain('**Last log lines of the container (web on 127.0.0.');
    expect(r.main.summary).toContain('url:/up');
    expect(r.main.outputs['previous-version']).toBe('v2');
    expect(JSON.parse(r.main.outputs.report!).result).toBe('failure');
    expect(statusesOf(Number(r.main.outputs['deployment-id'])).at(-1)!.body).toMatchObject({ state: 'failure' });
    expect(r.main.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace
    expect(lockDirs()).toBe('');
  });

  it('SIGINT with the proxy deploy pending on both hosts, SIGTERM 7.5 s and SIGKILL 10 s later as the runner does: every request served by the old version, the new containers stopped, the lock released', async () => {
    // v3 boots slowly: the rollout waits in kamal-proxy's health check, and the proxy would switch
    // to v3 BOOT_DELAY s after it started, well inside the deploy timeout, were it left to go on.
    const bootDelay = 8;
    const deployTimeout = 15;
    let cancel: Cancel | undefined;
    let waiting: Promise<void> | undefined;
    let watching: Promise<Served> | undefined;
    const r = await action({ version: 'v3' }, { VERSION: 'v3', BOOT_DELAY: String(bootDelay), DEPLOY_TIMEOUT: String(deployTimeout) }, (soFar, child) => {
      if (waiting || !soFar.includes('::group::boot web')) return;
      // the known point: on every host the v3 container runs and the proxy's deploy to it is pending
      waiting = waitUntil(
        'v3 running with a pending proxy deploy on both hosts',
        async () => (await Promise.all(web().map((h) => proxyDeployPending(h, `${SERVICE}-web-v3`)))).every(Boolean),
        {
          timeoutMs: 20_000,
          alive: () => child.exitCode === null,
        },
      ).then(() => {
        // every request from the signal until the interrupted deploy's timeout has passed
        watching = watchServing(web(), HOST, Date.now() + (deployTimeout + 3) * 1000);
        cancel = cancelLikeRunner(child);
      });
    });
    await waiting;
    expect(cancel, explain(r.main)).toBeDefined();
    const exitedAfterMs = await cancel!.exited;
    // the main step undid the rollout and released the lock itself, before the runner would kill it
    expect(r.main.signal, `${explain(r.main)}\nsignals: ${JSON.stringify(cancel!.sent)}`).toBeNull();
    expect(r.main.exitCode, explain(r.main)).not.toBe(0);
    expect(r.post.exitCode, explain(r.post)).toBe(0);
    expect(r.main.stdout).toContain('Received SIGINT');
    for (const h of web()) expect(r.main.stdout, explain(r.main)).toContain(`Reverted web on ${h.ip} to v2`);
    expect(r.post.stdout).not.toMatch(/^::warning::/m);
    process.stderr.write(`[cancel] main exited ${exitedAfterMs} ms after SIGINT; signals ${JSON.stringify(cancel!.sent)}\n`);

    // The lock is gone, the deployment got its final status.
    expect(lockDirs()).toBe('');
    const id = Number(stateValue(r.main.state, 'deployment-id'));
    expect(statusesOf(id).at(-1)!.body).toMatchObject({ state: 'failure' });
    // nothing was left for the post step to undo
    expect(stateValue(r.main.state, 'pending-undo')).toBe('');

    // ... is served by v2.
    const served = (await watching)!;
    expect(served.requests).toBeGreaterThan(20);
    expect(tally(served)).toEqual(Object.fromEntries(web().map((h) => [h.ip, { v2: served.answers.get(h.ip)!.length }])));
    for (const h of web()) expect(await runningContainers(h, `${SERVICE}-web-v3`), `v3 still running on ${h.ip}`).toBe('');
    for (const h of web()) expect(await hostSh(h, `docker ps -a -q --filter name=^${SERVICE}-web-v3$`), `no v3 container on ${h.ip}`).not.toBe('');
  });

  it('SIGINT, then the main step killed 0.3 s later, mid-undo: the post step finishes the undo before releasing the lock, and the old version keeps serving', async () => {
    const bootDelay = 8;
    const deployTimeout = 15;
    let cancel: Cancel | undefined;
    let waiting: Promise<void> | undefined;
    let watching: Promise<Served> | undefined;
    const r = await action({ version: 'v3' }, { VERSION: 'v3', BOOT_DELAY: String(bootDelay), DEPLOY_TIMEOUT: String(deployTimeout) }, (soFar, child) => {
      if (waiting || !soFar.includes('::group::boot web')) return;
      waiting = waitUntil(
        'v3 running with a pending proxy deploy on both hosts',
        async () => (await Promise.all(web().map((h) => proxyDeployPending(h, `${SERVICE}-web-v3`)))).every(Boolean),
        {
          timeoutMs: 20_000,
          alive: () => child.exitCode === null,
        },
      ).then(() => {
        watching = watchServing(web(), HOST, Date.now() + (deployTimeout + 3) * 1000);
        cancel = cancelLikeRunner(child, { killAfterMs: 300 });
      });
    });
    await waiting;
    expect(cancel, explain(r.main)).toBeDefined();
    expect(r.main.signal, explain(r.main)).toBe('SIGKILL');
    // the state the killed main step left: the lock held, both boots still to undo
    expect(stateValue(r.main.state, 'lock-held')).toBe('true');
    expect(JSON.parse(stateValue(r.main.state, 'pending-undo')!)).toEqual(
      web().map((h) => ({ host: h.ip, role: 'web', version: 'v3', previousVersion: 'v2', phase: 'deploying' })),
    );
    expect(r.post.exitCode, explain(r.post)).toBe(0);
    expect(r.post.stdout).toContain('::group::Putting the previous version back where the cancelled rollout started the new one');
    for (const h of web()) expect(r.post.stdout, explain(r.post)).toContain(`Reverted web on ${h.ip} to v2`);
    expect(r.post.stdout).not.toMatch(/^::warning::(Could not|Post step)/m);
    expect(lockDirs()).toBe('');

    const served = (await watching)!;
    expect(served.requests).toBeGreaterThan(20);
    expect(tally(served)).toEqual(Object.fromEntries(web().map((h) => [h.ip, { v2: served.answers.get(h.ip)!.length }])));
    for (const h of web()) expect(await runningContainers(h, `${SERVICE}-web-v3`), `v3 still running on ${h.ip}`).toBe('');
  });

  it('the post step logged out of the registry the build logged in to', () => {
    const logins = runs.filter((r) => r.main.state['registry-login']);
    expect(logins.length).toBeGreaterThan(0);
    for (const r of logins) expect(r.post.stdout).toContain(`Logged out of ${lab().registry.server}`);
    const cfg = join(dockerConfig, 'config.json');
    if (existsSync(cfg)) expect(Object.keys((JSON.parse(readFileSync(cfg, 'utf8')) as { auths?: object }).auths ?? {})).not.toContain(lab().registry.server);
  });

  it('no secret value appears in stdout, stderr, summary, outputs or state', () => {
    expect(runs.length).toBeGreaterThanOrEqual(6);
    const values = [...Object.values(secrets), githubToken, runtimeToken, sshKey];
    const parts = new Set<string>();
    for (const v of values) {
      parts.add(v.trim());
      for (const line of v.split('\n')) if (line.trim().length >= 8 && !/^-----(BEGIN|END) /.test(line.trim())) parts.add(line.trim());
    }
    for (const run of runs) {
      for (const step of [run.main, run.post]) {
        // The runner consumes ::add-mask:: lines: they are never shown.
        const stdout = step.stdout
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n');
        const visible = [stdout, step.stderr, step.summary, JSON.stringify(step.outputs), JSON.stringify(step.state)].join('\n');
        for (const p of parts) expect(visible.includes(p), `a secret value leaked: ${p.slice(0, 4)}…`).toBe(false);
      }
      // Every value was masked before the first other line.
      const lines = run.main.stdout.split('\n').filter(Boolean);
      const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
      const masked = lines.slice(0, firstOther).join('\n');
      for (const v of [secrets.APP_SECRET, secrets.KAMAL_REGISTRY_PASSWORD, githubToken, runtimeToken]) expect(masked).toContain(`::add-mask::${v}`);
    }
  });
});
