/**
 * `kamal` on the PATH of hooks and `.kamal/secrets` shells, on the lab over real SSH:
 * - a pre-deploy hook runs `kamal proxy boot_config set ...` without flags: it acts on the
 *   run's config file, destination and known_hosts, and the deploy then boots kamal-proxy
 *   from those boot_config files and serves;
 * - `.kamal/secrets` fetches through stub `op` and `bw` CLIs (answering Kamal's calls as in
 *   Kamal's adapter tests) with `kamal secrets fetch` / `extract` and a pipe to jq, and the
 *   values reach the containers' environment;
 * - the action bundle (`node dist/action/index.js`, as a runner starts it) adds a folder to the
 *   runner's PATH file whose `kamal` a later step runs with nothing but that PATH: it reaches
 *   the hosts with the step's key and known_hosts files. A `kamal` already on PATH stays first.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { parse } from 'yaml';
import { ROOT, httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type KamalRun, type LabHost } from './helpers.js';

const HOST = 'path.lab.test';

const ok = (r: KamalRun): KamalRun => {
  expect(r.exitCode, `${r.err}\n${r.reporter.text.slice(-2000)}`).toBe(0);
  return r;
};

/** The proxy section without proxy/run: kamal-proxy boots from the boot_config files on the host. */
function proxyYaml(): string {
  return labProxyYaml(HOST, 20, { run: false });
}

/** A script on PATH named `name`. */
function tool(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}`);
  chmodSync(join(dir, name), 0o755);
}

describe('kamal on the PATH of hooks and secrets shells', () => {
  let h: LabHost;

  beforeAll(() => {
    h = lab().hosts[0]!;
  });

  it('a pre-deploy hook runs `kamal proxy boot_config set` on the same project, destination and hosts; the deploy serves', async () => {
    resetHosts([h]);
    const l = lab();
    const p = l.proxyImage;
    const record = join(mkdtempSync(join(tmpdir(), 'kamal-path-hook-')), 'hook.log');
    const dir = makeProject({
      service: 'hooked',
      // the hosts and the proxy come from the destination file of a config file with another name
      yaml: '',
      files: {
        'deploy/app.lab.yml': `servers:\n  web:\n    hosts:\n      - ${h.ip}\n${proxyYaml()}`,
        // with a destination, Kamal reads secrets-common and secrets.lab
        '.kamal/secrets-common': 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\n',
      },
      hooks: {
        'pre-deploy': `#!/bin/sh
set -e
echo "kamal=$(command -v kamal)" > ${record}
kamal proxy boot_config set --registry ${p.registry} --repository lab --image-version ${p.version} --log-max-size 7m >> ${record} 2>&1
kamal proxy boot_config get >> ${record} 2>&1
`,
      },
    });
    // config/deploy.yml as made, moved to a name only the shim can pass on
    writeFileSync(join(dir, 'deploy/app.yml'), readFileSync(join(dir, 'config/deploy.yml')));
    rmSync(join(dir, 'config/deploy.yml'));
    // no KAMAL_ACTION_KNOWN_HOSTS in the environment: the hook's kamal only has the --known-hosts flag, through the shim
    const r = ok(
      await kamal(dir, ['deploy', '-c', 'deploy/app.yml', '-d', 'lab', '--known-hosts', l.ssh.knownHosts, '--version', 'hk1'], {
        KAMAL_ACTION_KNOWN_HOSTS: '',
        VERSION: 'hk1',
      }),
    );
    const log = readFileSync(record, 'utf8');
    expect(log).toMatch(/^kamal=\/.*kamal-shim-[^/]+\/kamal\n/);
    expect(log).toContain(`Host ${h.ip}: --publish 80:80 --publish 443:443 --log-opt max-size=7m ${p.image}`);
    expect(onHost(h, 'cat .kamal/proxy/options; echo; cat .kamal/proxy/image; echo; cat .kamal/proxy/image_version')).toBe(
      `--publish 80:80 --publish 443:443 --log-opt max-size=7m\n${p.registry}/lab/kamal-proxy\n${p.version}`,
    );
    // the deploy booted kamal-proxy from those files, after the hook
    const said = r.reporter.messages.map((m) => m.message);
    expect(said.indexOf('Running the pre-deploy hook...')).toBeGreaterThanOrEqual(0);
    expect(said.indexOf('Running the pre-deploy hook...')).toBeLessThan(said.indexOf('Ensure kamal-proxy is running...'));
    expect(onHost(h, "docker inspect kamal-proxy --format '{{.HostConfig.LogConfig.Config}}'")).toBe('map[max-size:7m]');
    expect(await httpGet(h.ip, '/', HOST)).toEqual({ status: 200, body: 'hk1\n' });
  });

  it('.kamal/secrets fetches through the 1Password and Bitwarden CLIs; the values reach the container', async () => {
    resetHosts([h]);
    const l = lab();
    const bin = mkdtempSync(join(tmpdir(), 'kamal-path-vault-'));
    const calls = join(bin, 'calls.log');
    // 1Password: `op --version`, `op account get --account A`, `op item get ITEM --vault V --format json --account A --fields label=F,...`
    tool(
      bin,
      'op',
      `echo "op $*" >> ${calls}
case "$1 $2" in
  "--version "*) echo 2.30.0 ;;
  "account get") exit 0 ;;
  "item get")
    item=$3
    [ "$item" = App ] || { echo "[ERROR] \\"$item\\" isn't an item" >&2; exit 1; }
    cat <<'JSON'
[
  {"id": "a1", "type": "CONCEPTUAL", "label": "KAMAL_REGISTRY_PASSWORD", "value": "${l.registry.password}", "reference": "op://Deploy/App/KAMAL_REGISTRY_PASSWORD"},
  {"id": "a2", "type": "CONCEALED", "label": "DB_PASSWORD", "value": "op-p@ss w$rd!1", "reference": "op://Deploy/App/DB_PASSWORD"}
]
JSON
    ;;
  *) echo "op: unexpected $*" >&2; exit 2 ;;
esac
`,
    );
    // Bitwarden: `bw --version`, `bw status`, `bw sync`, `bw get item ITEM`
    tool(
      bin,
      'bw',
      `echo "bw $*" >> ${calls}
case "$1 $2" in
  "--version "*) echo 2024.9.0 ;;
  "status "*) echo '{"serverUrl":null,"lastSync":"2024-09-04T10:11:12.433Z","userEmail":"ci@example.com","userId":"u1","status":"unlocked"}' ;;
  "sync "*) echo "Syncing complete." ;;
  "get item")
    case "$3" in
      mypassword) echo '{"object":"item","id":"i1","type":1,"name":"mypassword","fields":null,"login":{"uris":[],"username":null,"password":"bw-secret123","totp":null}}' ;;
      myitem) echo '{"object":"item","id":"i2","type":1,"name":"myitem","fields":[{"name":"token","value":"bw-token-9","type":1,"linkedId":null}],"login":{"uris":[],"username":null,"password":null,"totp":null}}' ;;
      *) echo "Not found." >&2; exit 1 ;;
    esac ;;
  *) echo "bw: unexpected $*" >&2; exit 2 ;;
esac
`,
    );
    const dir = makeProject({
      service: 'vaulted',
      yaml: `servers:
  web:
    hosts:
      - ${h.ip}
env:
  secret:
    - DB_PASSWORD
    - BW_PASSWORD
    - BW_TOKEN
    - BW_PIPED
${labProxyYaml(HOST)}`,
      secrets: `SECRETS=$(kamal secrets fetch --adapter 1password --account acme --from op://Deploy/App KAMAL_REGISTRY_PASSWORD DB_PASSWORD)
KAMAL_REGISTRY_PASSWORD=$(kamal secrets extract KAMAL_REGISTRY_PASSWORD $SECRETS)
DB_PASSWORD=$(kamal secrets extract DB_PASSWORD \${SECRETS})
BW=$(kamal secrets fetch --adapter bitwarden --account ci@example.com mypassword myitem/token)
BW_PASSWORD=$(kamal secrets extract mypassword $BW)
BW_TOKEN=$(kamal secrets extract token $BW)
BW_PIPED=$(kamal secrets fetch --adapter bitwarden --account ci@example.com myitem/token | jq -r '.["myitem/token"]')
`,
    });
    const r = ok(await kamal(dir, ['deploy', '--version', 'vt1'], { PATH: `${bin}:${process.env.PATH}`, LAB_REGISTRY_PASSWORD: '', VERSION: 'vt1' }));
    expect(r.exitCode).toBe(0);
    expect(await httpGet(h.ip, '/', HOST)).toEqual({ status: 200, body: 'vt1\n' });
    const env = (name: string) =>
      onHost(h, `docker exec $(docker ps -q --filter label=service=vaulted --filter label=role=web | head -n 1) sh -c 'printf %s "$${name}"'`);
    expect(env('DB_PASSWORD')).toBe('op-p@ss w$rd!1');
    expect(env('BW_PASSWORD')).toBe('bw-secret123');
    expect(env('BW_TOKEN')).toBe('bw-token-9');
    expect(env('BW_PIPED')).toBe('bw-token-9');
    const made = readFileSync(calls, 'utf8');
    expect(made).toContain('op item get App --vault Deploy --format json --account acme --fields label=KAMAL_REGISTRY_PASSWORD,label=DB_PASSWORD');
    expect(made).toContain('bw get item myitem');
    // no value in the run's output
    for (const v of ['op-p@ss w$rd!1', 'bw-secret123', 'bw-token-9', l.registry.password]) {
      expect(r.reporter.text + r.out + r.err).not.toContain(v);
    }
  });

  it("the action's kamal runs in a later step with only the PATH the action added; a kamal already on PATH stays first", () => {
    const main = join(ROOT, 'dist/action/index.js');
    if (!existsSync(main)) throw new Error('dist/action/index.js is missing: run npm run build');
    const l = lab();
    const dir = makeProject({ service: 'later', yaml: `servers:\n  web:\n    hosts:\n      - ${h.ip}\n${labProxyYaml(HOST)}` });
    // the key and known_hosts come from the action's inputs only, as in a workflow
    writeFileSync(join(dir, 'config/deploy.yml'), readFileSync(join(dir, 'config/deploy.yml'), 'utf8').replace(/^ssh:\n( {2}.*\n)+/m, ''));
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
    const step = (path: string, inputs: Record<string, string>) => {
      const runnerTemp = mkdtempSync(join(tmpdir(), 'kamal-path-runner-'));
      const files = Object.fromEntries(['GITHUB_PATH', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'].map((n) => [n, join(runnerTemp, n)]));
      for (const f of Object.values(files)) writeFileSync(f, '');
      const env: Record<string, string> = { PATH: path, HOME: process.env.HOME ?? '', GITHUB_WORKSPACE: dir, RUNNER_TEMP: runnerTemp, ...files };
      for (const [name, spec] of Object.entries(action.inputs)) env[`INPUT_${name.toUpperCase()}`] = inputs[name] ?? spec.default ?? '';
      const r = spawnSync(process.execPath, [main], { env, encoding: 'utf8' });
      return { ...r, added: readFileSync(files.GITHUB_PATH, 'utf8').split('\n').filter(Boolean) };
    };
    const inputs = {
      command: 'lock status',
      'ssh-private-key': readFileSync(l.ssh.key, 'utf8'),
      'ssh-known-hosts': readFileSync(l.ssh.knownHosts, 'utf8'),
      secrets: JSON.stringify({ KAMAL_REGISTRY_PASSWORD: l.registry.password }),
    };
    const first = step(process.env.PATH ?? '', inputs);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.added).toHaveLength(1);
    const bin = first.added[0]!;
    expect(readdirSync(bin).sort()).toEqual(['kamal', 'kamal-action']);
    expect(first.stdout).toContain('Later steps of this job can run kamal');

    // a later `run:` step: the runner's PATH with the added folder first, the step's own env, no KAMAL_ACTION_*
    const later = spawnSync('sh', ['-c', 'command -v kamal && kamal lock status && kamal-action version'], {
      cwd: dir,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME ?? '', LAB_REGISTRY_PASSWORD: l.registry.password },
      encoding: 'utf8',
    });
    expect(later.status, later.stdout + later.stderr).toBe(0);
    expect(later.stdout).toContain(`${bin}/kamal\n`);
    expect(later.stdout).toContain('There is no deploy lock');
    expect(later.stdout).toMatch(/\(compatible with Kamal 2\.12\.0\)/);

    // with a real kamal first on PATH, only kamal-action is added and the log says so
    const gems = mkdtempSync(join(tmpdir(), 'kamal-path-gems-'));
    tool(gems, 'kamal', 'echo "the real kamal"\n');
    const second = step(`${gems}:${process.env.PATH}`, inputs);
    expect(second.status, second.stdout + second.stderr).toBe(0);
    expect(readdirSync(second.added[0]!)).toEqual(['kamal-action']);
    expect(second.stdout).toContain(
      `kamal is already on PATH (${gems}/kamal), so later steps keep running it; this action's CLI is on PATH for them as kamal-action`,
    );
  });
});
