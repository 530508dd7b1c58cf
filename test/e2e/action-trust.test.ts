/**
 * The action's log against a hostile container, end to end: the action bundle, run as a runner
 * runs it (node dist/action/index.js as the main and the post step, with INPUT_* variables and the
 * GITHUB_STATE / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files), builds and deploys an app whose
 * container prints workflow commands and secret values in several encodings, then fails its
 * health check. The log is read as the runner reads it: nothing the container printed may be
 * acted on, and no secret may be shown in any form.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lab, labProxyYaml, makeProject, onHost, type LabHost } from './helpers.js';
import { MAIN, POST, inputEnv, printedForms, readFileCommands, runNode, runnerView } from '../unit/action/runner-log.js';

const SERVICE = 'trustapp';
const HOST = 'trust.lab.test';

interface StepRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

describe('a container that prints workflow commands and secrets, deployed by the action bundle', () => {
  const appSecret = `s3cr"et w/+x ${randomBytes(6).toString('hex')}`;
  const githubToken = `ghs_${randomBytes(16).toString('hex')}`;
  const runtimeToken = `runtime-${randomBytes(16).toString('hex')}`;
  let registryPassword = '';
  let sshKey = '';
  let main: StepRun;
  let post: StepRun;
  /** `app logs` of the failed container: its lines as log text. */
  let logs: StepRun;
  let runnerTemp = '';
  const host = (): LabHost => lab().hosts[lab().hosts.length - 1]!;

  beforeAll(async () => {
    const l = lab();
    registryPassword = l.registry.password;
    sshKey = readFileSync(l.ssh.key, 'utf8');
    const dir = makeProject({
      service: SERVICE,
      yaml: `servers:
  web:
    hosts:
      - ${host().ip}
env:
  clear:
    FAIL_HEALTH: "1"
  secret:
    - APP_SECRET
${labProxyYaml(HOST, 8)}`,
      secrets: 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\nAPP_SECRET=$APP_SECRET\n',
    });
    // the action passes the key through its input
    const config = readFileSync(join(dir, 'config/deploy.yml'), 'utf8').replace(/^ssh:\n {2}keys: .*\n {2}keys_only: true\n/m, '');
    writeFileSync(join(dir, 'config/deploy.yml'), config);
    // The app prints hostile lines before it starts serving.
    const [, base64, json, url] = printedForms(appSecret);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const start = readFileSync(join(dir, 'start.sh'), 'utf8').replace(
      /^set -eu\n/m,
      `set -eu
echo '::error::pwned'
echo '::add-mask::x'
echo '::save-state name=lock-held::true'
echo '::save-state name=ssh-dir::/tmp'
echo '::set-output name=x::y'
echo '::warning::pwned too'
echo '::stop-commands::guessed'
echo '::guessed::'
echo '::error::pwned after a guessed end'
printf 'plain=%s\\n' "$APP_SECRET"
printf 'base64='; printf '%s' "$APP_SECRET" | base64
printf 'printed-base64=%s\\n' ${q(base64!)}
printf 'json=%s\\n' ${q(json!)}
printf 'url=%s\\n' ${q(url!)}
`,
    );
    writeFileSync(join(dir, 'start.sh'), start);

    const runner = mkdtempSync(join(tmpdir(), 'action-trust-runner-'));
    const dockerConfig = join(runner, 'docker-config');
    const files = (prefix: string) => ({
      output: join(runner, `${prefix}-output`),
      state: join(runner, `${prefix}-state`),
      summary: join(runner, `${prefix}-summary`),
    });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DOCKER_CONFIG: dockerConfig,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_WORKSPACE: dir,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: '1234567890abcdef1234567890abcdef12345678',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_RUN_ID: '1',
      RUNNER_TEMP: runner,
      ACTIONS_RUNTIME_TOKEN: runtimeToken,
      ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results/',
      ACTIONS_CACHE_URL: 'http://127.0.0.1:9/cache/',
      VERSION: 'hostile',
      ...inputEnv({
        version: 'hostile',
        'ssh-private-key': sshKey,
        'ssh-known-hosts': readFileSync(l.ssh.knownHosts, 'utf8'),
        secrets: JSON.stringify({ KAMAL_REGISTRY_PASSWORD: registryPassword, APP_SECRET: appSecret, github_token: githubToken }),
        'github-token': githubToken,
      }),
    };
    runnerTemp = runner;
    const step = async (script: string, prefix: string, state: Record<string, string>, inputs: Record<string, string> = {}): Promise<StepRun> => {
      const f = files(prefix);
      for (const p of Object.values(f)) writeFileSync(p, '');
      const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
      const over = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
      const r = await runNode(script, { ...env, ...stateEnv, ...over, GITHUB_OUTPUT: f.output, GITHUB_STATE: f.state, GITHUB_STEP_SUMMARY: f.summary });
      writeFileSync(join(runner, `${prefix}.stdout`), r.stdout);
      writeFileSync(join(runner, `${prefix}.stderr`), r.stderr);
      return { ...r, outputs: readFileCommands(f.output), state: readFileCommands(f.state), summary: readFileSync(f.summary, 'utf8') };
    };
    main = await step(MAIN, 'main', {});
    // State as the runner hands it to the post step: the state file, and any ::save-state it acted on.
    const acted = Object.fromEntries(
      runnerView(main.stdout)
        .commands.filter((c) => c.name === 'save-state')
        .map((c) => [/name=([^,]*)/.exec(c.props)?.[1] ?? '', c.value]),
    );
    post = await step(POST, 'post', { ...acted, ...main.state });
    const id = onHost(host(), `docker ps -aq --filter name=^${SERVICE}-web-hostile$`).trim().split('\n')[0]!;
    logs = await step(MAIN, 'logs', {}, { command: `app logs --container-id ${id} -n 40` });
  });

  /** Our own workflow commands: masks, groups, annotations, and the PATH entry for `kamal` in later steps. */
  const ours = (c: { name: string; value: string }) =>
    ['add-mask', 'group', 'endgroup', 'error', 'warning'].includes(c.name) || (c.name === 'add-path' && c.value.startsWith(runnerTemp));

  it('the deploy failed on the health check, with the container logs in the annotation, and app logs shows them', () => {
    expect(main.exitCode, main.stdout.slice(-4000)).toBe(1);
    const annotation = runnerView(main.stdout).commands.find((c) => c.name === 'error')!;
    // the annotation holds the container's last 20 lines
    expect(annotation.value).toContain('Last log lines of web on');
    expect(annotation.value).toMatch(/json=\[REDACTED\]%0A.*url=\[REDACTED\]/);
    expect(post.exitCode).toBe(0);
    expect(logs.exitCode, logs.stdout.slice(-4000)).toBe(0);
    const text = runnerView(logs.stdout).text.join('\n');
    expect(text).toContain('::error::pwned');
    expect(text).toContain('::save-state name=lock-held::true');
    expect(text).toMatch(/plain=\[REDACTED\]/);
  });

  it('no line the container printed is acted on: only our masks, groups and one failure annotation', () => {
    for (const [name, step] of [
      ['main', main],
      ['post', post],
      ['logs', logs],
    ] as const) {
      const view = runnerView(step.stdout);
      expect(view.closed, name).toBe(true);
      for (const c of view.commands) expect(ours(c), `${name}: ${c.line.slice(0, 200)}`).toBe(true);
      expect(view.commands.filter((c) => c.name === 'add-mask' && c.value === 'x')).toEqual([]);
      expect(view.commands.filter((c) => /^pwned/.test(c.value))).toEqual([]);
      // stderr is read by the runner too
      expect(
        step.stderr.split('\n').filter((l) => l.startsWith('::')),
        name,
      ).toEqual([]);
    }
    const errors = runnerView(main.stdout).commands.filter((c) => c.name === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.props).toMatch(/^title=kamal-action deploy failed on /);
    // the post step acted on the main step's state only, and had no lock to release
    expect(runnerView(post.stdout).commands.filter((c) => c.name === 'warning')).toEqual([]);
    expect(post.stdout).not.toContain('Releasing the deploy lock');
  });

  it('no secret, in any form, is shown: log, stderr, annotation, outputs, state or summary', () => {
    const secrets = [appSecret, registryPassword, githubToken, runtimeToken];
    for (const step of [main, post, logs]) {
      const view = runnerView(step.stdout);
      const visible = [
        view.text.join('\n'),
        ...view.commands.filter((c) => c.name !== 'add-mask').map((c) => `${c.props} ${c.value}`),
        step.stderr,
        step.summary,
        JSON.stringify(step.outputs),
        JSON.stringify(step.state),
      ].join('\n');
      for (const s of secrets)
        for (const form of printedForms(s)) expect(visible.includes(form), `a form of a secret leaked: ${form.slice(0, 4)}…`).toBe(false);
      for (const line of sshKey
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length >= 20))
        expect(visible.includes(line)).toBe(false);
    }
    const text = runnerView(logs.stdout).text.join('\n');
    for (const label of ['plain', 'base64', 'printed-base64', 'json', 'url']) expect(text).toMatch(new RegExp(`${label}=\\[REDACTED\\]`));
  });
});
