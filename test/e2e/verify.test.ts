/**
 * Deploys that check themselves, run as a runner runs the action (the files action.yml names,
 * INPUT_* variables, GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY, then the post step with
 * the state read back) against two lab hosts over real SSH, under traffic.
 *
 * `broken-2` passes its health check (/up answers OK) but serves a wrong page: the checks through
 * the proxy catch it, the action puts `ok-1` back on every host without one failed request, and
 * fails the job naming both versions.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Traffic, httpGet, kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts, type LabHost } from './helpers.js';
import { startFakeGithub, type FakeGithub } from '../unit/action/github-server.js';
import { inputEnv, readFileCommands } from '../unit/action/runner-log.js';

const HOST = 'verify.lab.test';
const SERVICE = 'verifyapp';
const SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const CHECK = `http://${HOST}/ 200 "ok-"`;

interface StepRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

/** The scripts action.yml runs for the main and the post step. */
function actionScripts(): { main: string; post: string } {
  const runs = (parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { main: string; post: string } }).runs;
  return { main: join(ROOT, runs.main), post: join(ROOT, runs.post) };
}

function runNode(script: string, env: Record<string, string>): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

describe('verify-url with rollback-on-failure, through the action', () => {
  let dir: string;
  let gh: FakeGithub;
  let runnerDir: string;
  let dockerConfig: string;
  let sshKey = '';
  let knownHosts = '';
  const secrets = { KAMAL_REGISTRY_PASSWORD: '' };
  const web = (): LabHost[] => lab().hosts.slice(0, 2);

  beforeAll(async () => {
    const scripts = actionScripts();
    if (!existsSync(scripts.main) || !existsSync(scripts.post)) throw new Error(`${scripts.main} or ${scripts.post} is missing: run npm run build`);
    const l = lab();
    resetHosts(web());
    secrets.KAMAL_REGISTRY_PASSWORD = l.registry.password;
    sshKey = readFileSync(l.ssh.key, 'utf8');
    knownHosts = readFileSync(l.ssh.knownHosts, 'utf8');
    dir = makeProject({ service: SERVICE, yaml: '', secrets: 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n' });
    // The key comes from the action's input: the configuration names none (the CLI's copy names it).
    writeFileSync(
      join(dir, 'config/deploy.yml'),
      `service: ${SERVICE}
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
${proxyRunYaml()}deploy_timeout: 20
drain_timeout: 2
readiness_delay: 0
retain_containers: 5
`,
    );
    writeFileSync(join(dir, 'config/cli.yml'), `${readFileSync(join(dir, 'config/deploy.yml'), 'utf8')}ssh:\n  keys: [${l.ssh.key}]\n  keys_only: true\n`);
    gh = await startFakeGithub({ firstDeploymentId: 700 });
    runnerDir = mkdtempSync(join(tmpdir(), 'verify-runner-'));
    dockerConfig = join(runnerDir, 'docker-config');
    mkdirSync(dockerConfig);
  });

  afterAll(async () => {
    await gh?.close();
  });

  /** One step and its post step, as the runner runs them. */
  async function action(inputs: Record<string, string>, extraEnv: Record<string, string>): Promise<{ main: StepRun; post: StepRun }> {
    const scripts = actionScripts();
    const stepDir = mkdtempSync(join(runnerDir, 'step-'));
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
      GITHUB_RUN_ID: '5151',
      GITHUB_RUN_ATTEMPT: '1',
      RUNNER_TEMP: stepDir,
      ...extraEnv,
    };
    const all = {
      'ssh-private-key': sshKey,
      'ssh-known-hosts': knownHosts,
      secrets: JSON.stringify(secrets),
      'github-token': 'ghs_verifytoken0123456789',
      environment: 'lab',
      ...inputs,
    };
    const step = async (script: string, prefix: string, stateEnv: Record<string, string>): Promise<StepRun> => {
      const files = { output: join(stepDir, `${prefix}output`), state: join(stepDir, `${prefix}state`), summary: join(stepDir, `${prefix}summary`) };
      for (const f of Object.values(files)) writeFileSync(f, '');
      const r = await runNode(script, {
        ...base,
        ...inputEnv(all),
        ...stateEnv,
        GITHUB_OUTPUT: files.output,
        GITHUB_STATE: files.state,
        GITHUB_STEP_SUMMARY: files.summary,
      });
      writeFileSync(join(stepDir, `${prefix}stdout`), r.stdout);
      writeFileSync(join(stepDir, `${prefix}stderr`), r.stderr);
      return { ...r, outputs: readFileCommands(files.output), state: readFileCommands(files.state), summary: readFileSync(files.summary, 'utf8') };
    };
    const main = await step(scripts.main, 'main-', {});
    const post = await step(scripts.post, 'post-', Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v])));
    return { main, post };
  }

  const explain = (r: StepRun): string =>
    `exit ${r.exitCode} (files in ${runnerDir})\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
  const serving = async (): Promise<string[]> => Promise.all(web().map(async (h) => (await httpGet(h.ip, '/', HOST)).body.trim()));
  const running = (h: LabHost): string => onHost(h, `docker ps --filter label=service=${SERVICE} --filter label=role=web --format '{{.Names}}'`);
  const lockDirs = (): string => onHost(web()[0]!, `ls -d /root/.kamal/lock-${SERVICE}* 2>/dev/null || true`);

  it('rolls a deploy that serves a wrong page back to the previous version, without a failed request, and fails the job naming both', async () => {
    const first = await action({ version: 'ok-1' }, { VERSION: 'ok-1' });
    expect(first.main.exitCode, explain(first.main)).toBe(0);
    expect(await serving()).toEqual(['ok-1', 'ok-1']);
    // what the broken version does: healthy to kamal-proxy, wrong to a person
    // (built and pushed by the step itself, with the checks in the same run)

    const traffic = new Traffic(
      web().map((h) => ({ ip: h.ip, host: HOST })),
      { maxRequests: 200_000, maxMs: 5 * 60_000, pauseMs: 5 },
    ).start();
    const r = await action({ version: 'broken-2', 'verify-url': CHECK, 'verify-for': '20s', 'rollback-on-failure': 'true' }, { VERSION: 'broken-2' });
    const { served, failed } = await traffic.stop();
    process.stdout.write(`verify: ${served} served, ${failed} failed; versions seen ${JSON.stringify(Object.fromEntries(traffic.versions))}\n`);

    // the job fails; the post step has nothing left to undo
    expect(r.main.exitCode, explain(r.main)).toBe(1);
    expect(r.post.exitCode, explain(r.post)).toBe(0);

    // ok-1 serves again everywhere, from a running ok-1 container; broken-2 is stopped
    expect(await serving()).toEqual(['ok-1', 'ok-1']);
    for (const h of web()) expect(running(h)).toBe(`${SERVICE}-web-ok-1`);
    expect(lockDirs()).toBe('');

    // not one request failed while broken-2 went live and ok-1 came back
    expect(traffic.failures).toEqual([]);
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(50);
    expect(traffic.versions.get('broken-2') ?? 0).toBeGreaterThan(0);
    expect(traffic.versions.get('ok-1') ?? 0).toBeGreaterThan(0);

    // what failed, where, and both versions: in the log, the annotation, the summary, the outputs and the deployment
    const failedHost = /through (127\.0\.0\.\d+): body does not contain "ok-"; body: "broken-2"/.exec(r.main.stdout)?.[1];
    expect(failedHost, r.main.stdout).toBeDefined();
    expect(web().map((h) => h.ip)).toContain(failedHost);
    const annotation = r.main.stdout.split('\n').find((l) => l.startsWith('::error '));
    expect(annotation).toContain(`::error title=kamal-action deploy failed on ${failedHost}::`);
    expect(annotation).toContain(`Verification of broken-2 failed: http://${HOST}/ through ${failedHost}: body does not contain "ok-"; body: "broken-2"`);
    expect(annotation).toContain('Rolled back from broken-2 to ok-1 on every host');

    expect(r.main.summary).toContain(`## ❌ ${SERVICE}: deploy failed`);
    expect(r.main.summary).toContain('| `broken-2` | `ok-1` |');
    expect(r.main.summary).toContain('### Verification');
    expect(r.main.summary).toContain(`- **URL:** \`http://${HOST}/\` through \`${failedHost}\``);
    expect(r.main.summary).toContain('- **Body:** `broken-2`');
    expect(r.main.summary).toContain('↩️ **Rolled back** from `broken-2` to `ok-1` on every host: `ok-1` serves again.');

    expect(r.main.outputs.version).toBe('broken-2');
    expect(r.main.outputs['previous-version']).toBe('ok-1');
    const report = JSON.parse(r.main.outputs.report!);
    expect(report).toMatchObject({ result: 'failure', version: 'broken-2', previousVersion: 'ok-1' });
    expect(report.verification).toMatchObject({ ok: false, version: 'broken-2', previousVersion: 'ok-1', rollback: 'done', rolledBackTo: 'ok-1' });
    expect(report.verification.hosts).toEqual(web().map((h) => h.ip));
    // the rollback booted ok-1 on every host
    expect(
      report.boots
        .filter((b: { version: string; ok: boolean }) => b.version === 'ok-1' && b.ok)
        .map((b: { host: string }) => b.host)
        .sort(),
    ).toEqual(
      web()
        .map((h) => h.ip)
        .sort(),
    );

    const id = r.main.outputs['deployment-id'];
    const statuses = gh.requests.filter((q) => q.path === `/repos/acme/shop/deployments/${id}/statuses`);
    expect(statuses.at(-1)!.body).toMatchObject({ state: 'failure' });
    expect((statuses.at(-1)!.body as { description: string }).description).toMatch(/^Error: Verification of broken-2 failed: /);
  });

  it('keeps a deploy whose checks pass for the whole window', async () => {
    const r = await action(
      { version: 'ok-3', 'verify-url': `${CHECK}\nhttp://${HOST}/up 200 OK`, 'verify-for': '4s', 'rollback-on-failure': 'true' },
      { VERSION: 'ok-3' },
    );
    expect(r.main.exitCode, explain(r.main)).toBe(0);
    expect(await serving()).toEqual(['ok-3', 'ok-3']);
    const report = JSON.parse(r.main.outputs.report!);
    // a round every 2 s over 4 s (at least the first and the last), each asking both URLs on both hosts
    const v = report.verification;
    expect(v).toMatchObject({ ok: true, version: 'ok-3', previousVersion: 'ok-1' });
    expect(v.rounds).toBeGreaterThanOrEqual(2);
    expect(v.requests).toBe(v.rounds * 4);
    expect(r.main.summary).toContain(`✅ \`ok-3\` answered as expected for 4 s: ${v.requests} requests in ${v.rounds} rounds through the proxy on`);
    expect(r.main.stdout).toContain(`Verified ok-3: ${v.requests} requests in ${v.rounds} rounds`);
  });

  it('the CLI: without --rollback-on-failure the failing version stays and the run fails; with it the previous one is back', async () => {
    const cli = (args: string[]) =>
      kamal(dir, ['deploy', '--config-file', 'config/cli.yml', '--skip-push', '--verify-url', CHECK, '--verify-for', '2s', ...args], {
        KAMAL_REGISTRY_PASSWORD: lab().registry.password,
      });
    const start = await cli(['--version', 'ok-3']);
    expect(start.exitCode, start.out + start.err).toBe(0);
    const kept = await cli(['--version', 'broken-2']);
    expect(kept.exitCode, kept.out + kept.err).toBe(1);
    expect(await serving(), kept.out + kept.err).toEqual(['broken-2', 'broken-2']);
    expect(kept.err).toContain('Verification of broken-2 failed: http://verify.lab.test/ through 127.0.0.');
    expect(kept.err).toContain('broken-2 stays deployed (rollback-on-failure is off; the previous version was ok-3)');

    // ok-3, then broken-2 again with the rollback: ok-3 serves again
    const fixed = await cli(['--version', 'ok-3']);
    expect(fixed.exitCode, fixed.out + fixed.err).toBe(0);
    const back = await cli(['--version', 'broken-2', '--rollback-on-failure']);
    expect(back.exitCode, back.out + back.err).toBe(1);
    expect(back.err).toContain('Rolled back from broken-2 to ok-3 on every host');
    expect(await serving()).toEqual(['ok-3', 'ok-3']);
    for (const h of web()) expect(running(h)).toBe(`${SERVICE}-web-ok-3`);
    expect(lockDirs()).toBe('');
  });
});
