import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { LOCAL } from '../../../src/exec/types.js';
import { createRunOutput, isModifying } from '../../../src/output/run-output.js';
import { Secret, SecretRegistry } from '../../../src/secret.js';
import { cmd } from '../../../src/shell.js';
import { copyApp, removeDirs, testEnv } from '../reliability/fleet.js';
import { Receiver } from './receiver.js';

let receiver: Receiver;
const dirs: string[] = [];

beforeAll(async () => {
  receiver = await Receiver.start();
});
afterEach(() => receiver.reset());
afterAll(async () => {
  removeDirs(dirs);
  await receiver.close();
});

describe('which commands open the log (Kamal wraps them in modify)', () => {
  it.each([
    ['deploy', undefined, {}, true],
    ['redeploy', undefined, {}, true],
    ['rollback', undefined, {}, true],
    ['setup', undefined, {}, true],
    ['remove', undefined, {}, true],
    ['app', 'boot', {}, true],
    ['app', 'remove_container', {}, true],
    ['app', 'stale_containers', {}, false],
    ['app', 'stale_containers', { stop: true }, true],
    ['app', 'logs', {}, false],
    ['app', 'exec', {}, false],
    ['app', 'version', {}, false],
    ['accessory', 'reboot', {}, true],
    ['accessory', 'logs', {}, false],
    ['proxy', 'reboot', {}, true],
    ['proxy', 'details', {}, false],
    ['prune', 'all', {}, true],
    ['server', 'bootstrap', {}, true],
    ['server', 'exec', {}, false],
    ['build', 'deliver', {}, false],
    ['lock', 'acquire', {}, false],
    ['details', undefined, {}, false],
    ['audit', undefined, {}, false],
  ] as const)('%s %s %j: %s', (command, subcommand, opts, expected) => {
    expect(isModifying(command, subcommand, opts)).toBe(expected);
  });
});

describe('RunOutput: what the sinks receive', () => {
  it('logs commands in SSHKit format (always, at every level), says only from the first modify on, secrets redacted everywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-output-'));
    dirs.push(dir);
    const secrets = new SecretRegistry();
    secrets.add(new Secret('s3cr3t-registry-pw', 'KAMAL_REGISTRY_PASSWORD'));
    let clock = 0;
    let id = 0;
    const printed: string[] = [];
    const output = createRunOutput(
      { file: { path: 'log/kamal' }, otel: { endpoint: receiver.endpoint } },
      {
        cwd: dir,
        kamalVersion: '2.12.0',
        redact: (t) => secrets.redact(t),
        tags: () => ({ performer: 'me@example.com', destination: 'staging', version: 'v1', service: 'app' }),
        print: (l) => printed.push(l),
        warn: (l) => printed.push(`warn: ${l}`),
        now: () => new Date(2026, 11, 6, 9, 5, 7),
        clock: () => (clock += 250),
        commandId: () => `c0ffee0${id++}`,
      },
    )!;
    const inner = new RecordingRunner((host, command) => {
      if (command.startsWith('docker ps')) return { stdout: 'app-web-v1\nleaked s3cr3t-registry-pw\n' };
      if (command.startsWith('docker inspect')) return { exitCode: 1, stderr: 'No such object' };
      return undefined;
    });
    const runner = output.runner(inner, { localUser: 'deployer' });

    output.say('Before any modify: not logged');
    await runner.run('1.1.1.1', cmd('docker', 'ps'));
    await output.modify({ command: 'app', subcommand: 'boot', destination: 'staging', hosts: ['1.1.1.1'] }, async () => {
      output.say('Get most recent version available as an image... (password s3cr3t-registry-pw)');
      await runner.run('1.1.1.1', cmd('docker', 'login', '-p', new Secret('s3cr3t-registry-pw', 'KAMAL_REGISTRY_PASSWORD')));
      await runner.run('1.1.1.1', cmd('docker', 'inspect', 'x'), { allowFailure: true });
      await runner.upload('1.1.1.1', 'A=s3cr3t-registry-pw\n', '.kamal/apps/app/env/roles/web.env');
      await runner.run(LOCAL, cmd('docker', 'ps'));
      // nested modify (deploy invoking app boot): one file, one start/complete pair
      await output.modify({ command: 'app', subcommand: 'boot', hosts: [] }, async () => output.say('inner'));
    });
    output.say('After the modify: the file is closed, OTel keeps it for the end of the run');
    await output.close();

    const files = readdirSync(join(dir, 'log/kamal'));
    expect(files).toEqual(['2026-12-06T09-05-07_staging_app_boot.log']);
    const content = readFileSync(join(dir, 'log/kamal', files[0]!), 'utf8');
    expect(content).toBe(
      [
        'Get most recent version available as an image... (password [REDACTED])',
        '  INFO [c0ffee01] Running docker login -p [REDACTED] on 1.1.1.1',
        ' DEBUG [c0ffee01] Command: docker login -p [REDACTED]',
        '  INFO [c0ffee01] Finished in 0.250 seconds with exit status 0 (successful).',
        '  INFO [c0ffee02] Running docker inspect x on 1.1.1.1',
        ' DEBUG [c0ffee02] Command: docker inspect x',
        ' DEBUG [c0ffee02] \tNo such object',
        '  INFO [c0ffee02] Finished in 0.250 seconds with exit status 1 (failed).',
        '  INFO Uploading .kamal/apps/app/env/roles/web.env 100.0%',
        '  INFO [c0ffee03] Running docker ps as deployer@localhost',
        ' DEBUG [c0ffee03] Command: docker ps',
        ' DEBUG [c0ffee03] \tapp-web-v1',
        'leaked [REDACTED]',
        '  INFO [c0ffee03] Finished in 0.250 seconds with exit status 0 (successful).',
        'inner',
        '# Completed in 1.8s',
        '',
      ].join('\n'),
    );
    expect(printed).toEqual(['Logs written to log/kamal/2026-12-06T09-05-07_staging_app_boot.log', `Logs sent to ${receiver.endpoint}`]);

    const bodies = receiver.bodies;
    // the command before the modify went to OTel (not to the file); the say before it went nowhere
    expect(bodies.slice(0, 6)).toEqual([
      '  INFO [c0ffee00] Running docker ps on 1.1.1.1',
      ' DEBUG [c0ffee00] Command: docker ps',
      ' DEBUG [c0ffee00] \tapp-web-v1',
      'leaked [REDACTED]',
      '  INFO [c0ffee00] Finished in 0.250 seconds with exit status 0 (successful).',
      'kamal.start',
    ]);
    expect(bodies.filter((b) => b.startsWith('kamal.'))).toEqual(['kamal.start', 'kamal.complete']);
    expect(bodies.at(-1)).toBe('After the modify: the file is closed, OTel keeps it for the end of the run');
    expect(bodies.join('\n')).not.toContain('s3cr3t');
    expect(bodies).not.toContain('Before any modify: not logged');
    const data = receiver.records.find((r) => (r.body as { stringValue: string }).stringValue === ' DEBUG [c0ffee02] \tNo such object')!;
    expect(data).toMatchObject({
      severityText: 'DEBUG',
      attributes: [
        { key: 'server.address', value: { stringValue: '1.1.1.1' } },
        { key: 'log.iostream', value: { stringValue: 'stderr' } },
      ],
    });
    // sent when the modify ended, then what came after at the close of the run
    expect(receiver.requests).toHaveLength(2);
  });

  it('no output section, or an empty one: no run output', () => {
    const deps = { cwd: '/', kamalVersion: '2.12.0', redact: (t: string) => t, tags: () => ({}), print: () => undefined, warn: () => undefined };
    expect(createRunOutput(undefined, deps)).toBeUndefined();
    expect(createRunOutput(null, deps)).toBeUndefined();
    expect(createRunOutput({}, deps)).toBeUndefined();
  });

  it('sinks come in the order the section lists them', () => {
    const deps = { cwd: '/tmp', kamalVersion: '2.12.0', redact: (t: string) => t, tags: () => ({}), print: () => undefined, warn: () => undefined };
    const a = createRunOutput({ file: { path: 'x' }, otel: { endpoint: receiver.endpoint } }, deps)!;
    const b = createRunOutput({ otel: { endpoint: receiver.endpoint }, file: { path: 'x' } }, deps)!;
    expect(a.sinks.map((s) => s.constructor.name)).toEqual(['FileLog', 'OtelLog']);
    expect(b.sinks.map((s) => s.constructor.name)).toEqual(['OtelLog', 'FileLog']);
    return Promise.all([a.close(), b.close()]);
  });
});

describe('through the CLI', () => {
  function app(): string {
    const dir = copyApp(dirs);
    appendFileSync(join(dir, 'config/deploy.yml'), `\noutput:\n  file:\n    path: log/kamal\n  otel:\n    endpoint: ${receiver.endpoint}\n`);
    return dir;
  }

  async function kamal(dir: string, args: string[], respond?: (host: string, command: string) => { exitCode?: number; stdout?: string } | undefined) {
    const runner = new RecordingRunner(respond ?? (() => undefined));
    let out = '';
    let err = '';
    const reporter = new MemoryReporter();
    const result = await runCli(args, {
      cwd: dir,
      env: testEnv(),
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      runner,
      local: runner,
      reporter,
    });
    return { result, out, err, reporter, logs: existsSync(join(dir, 'log/kamal')) ? readdirSync(join(dir, 'log/kamal')) : [] };
  }

  it('a modifying command writes one file named as Kamal names it and sends its events; secrets never leave redacted', async () => {
    const dir = app();
    const r = await kamal(dir, ['app', 'stop', '-d', 'staging', '--version', 'v1'], (_h, command) =>
      command.includes('docker ps') ? { stdout: 'db-pw-staging-9e27 reg-pw-common-5f3a9c\n' } : undefined,
    );
    expect(r.result.exitCode, r.err).toBe(0);
    expect(r.logs).toHaveLength(1);
    expect(r.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_staging_app_stop\.log$/);
    const content = readFileSync(join(dir, 'log/kamal', r.logs[0]!), 'utf8');
    expect(content).toMatch(/^ {2}INFO \[[0-9a-f]{8}\] Running .* on \d+\.\d+\.\d+\.\d+$/m);
    expect(content).toMatch(/^ DEBUG \[[0-9a-f]{8}\] Command: /m);
    expect(content).toMatch(/^ {2}INFO \[[0-9a-f]{8}\] Finished in +\d+\.\d{3} seconds with exit status 0 \(successful\)\.$/m);
    expect(content).toMatch(/# Completed in \d+\.\ds\n$/);
    expect(content).toContain('[REDACTED]');
    expect(content).not.toContain('db-pw-staging-9e27');
    expect(content).not.toContain('reg-pw-common-5f3a9c');
    expect(r.reporter.text).toContain(`Logs written to log/kamal/${r.logs[0]}\n`);
    expect(r.reporter.text).toContain(`Logs sent to ${receiver.endpoint}\n`);

    const events = receiver.records.filter((x) => x.eventName);
    expect(events.map((e) => e.eventName)).toEqual(['kamal.start', 'kamal.complete']);
    expect(events[0]!.attributes).toEqual([{ key: 'kamal.command', value: { stringValue: 'app stop' } }]);
    const resource = Object.fromEntries(
      receiver.requests[0]!.body.resourceLogs[0]!.resource.attributes.map((a) => [a.key, (a.value as { stringValue: string }).stringValue]),
    );
    expect(resource).toMatchObject({
      'service.name': 'kamal',
      'service.version': '2.12.0',
      'deployment.environment.name': 'staging',
      'kamal.deploy_version': 'v1',
      'service.namespace': 'app',
    });
    expect(resource['kamal.run_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(resource['kamal.performer']).toBeTruthy();
    const all = JSON.stringify(receiver.requests);
    expect(all).not.toContain('db-pw-staging-9e27');
    expect(all).not.toContain('reg-pw-common-5f3a9c');
  });

  it('a failed modifying command ends its file with the error; the events say failed', async () => {
    const dir = app();
    const r = await kamal(dir, ['app', 'stop', '--version', 'v1'], (_h, command) =>
      command.startsWith('mkdir') && command.includes('lock-app')
        ? ({ exitCode: 1, stderr: "mkdir: cannot create directory '.kamal/lock-app': File exists" } as never)
        : undefined,
    );
    expect(r.result.exitCode).toBe(1);
    const content = readFileSync(join(dir, 'log/kamal', r.logs[0]!), 'utf8');
    expect(r.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_app_stop\.log$/);
    expect(content).toMatch(/\n# FAILED: \w+: .* \(\d+\.\ds\)\n$/);
    expect(receiver.records.filter((x) => x.eventName).map((e) => [e.eventName, e.severityText])).toEqual([
      ['kamal.start', 'INFO'],
      ['kamal.failed', 'ERROR'],
    ]);
  });

  it('a command that does not modify writes no file; its command lines still reach OTel when the run ends', async () => {
    const dir = app();
    const r = await kamal(dir, ['app', 'containers', '--version', 'v1']);
    expect(r.result.exitCode, r.err).toBe(0);
    expect(r.logs).toEqual([]);
    expect(receiver.records.some((x) => x.eventName)).toBe(false);
    expect(
      receiver.bodies.some((b) => /^ {2}INFO \[[0-9a-f]{8}\] Running docker .* on 10\.0\.0\.1$/.test(b)),
      receiver.bodies.join('\n'),
    ).toBe(true);
    expect(r.reporter.text).not.toContain('Logs written to');
  });
});
