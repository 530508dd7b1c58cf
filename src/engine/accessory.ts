/** Accessory operations (Kamal::Cli::Accessory). */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { CommandFailedError } from '../exec/types.js';
import { renderErb } from '../config/erb.js';
import { Secret } from '../secret.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { preflight } from './preflight.js';
import { runInteractive, stdinIsTty } from './interactive.js';

type AccessoryCmds = ReturnType<Kamal['cmds']['accessory']>;

function names(kamal: Kamal): string[] {
  return kamal.config.accessories.map((a) => a.name);
}

/**
 * Refuses an unknown accessory name (or `all` where it is not accepted) before
 * the lock is taken or a host is touched.
 */
export function ensureAccessory(kamal: Kamal, name: string, opts: { all?: boolean } = {}): void {
  if (opts.all !== false && name === 'all') return;
  if (!kamal.config.accessory(name)) {
    const options = names(kamal);
    throw new UsageError(`No accessory by the name of '${name}'${options.length ? ` (options: ${toSentence(options)})` : ''}`);
  }
}

/** ActiveSupport's Array#to_sentence: "a", "a and b", "a, b, and c". */
function toSentence(items: string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

async function withAccessory(kamal: Kamal, name: string, fn: (a: AccessoryCmds, hosts: string[]) => Promise<void>): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  const accessory = kamal.cmds.accessory(name);
  const hosts = kamal.accessoryHosts.filter((h) => accessory.hosts.includes(h));
  await fn(accessory, hosts);
}

async function eachName(kamal: Kamal, name: string, fn: (n: string) => Promise<void>): Promise<void> {
  if (name === 'all') for (const n of names(kamal)) await fn(n);
  else await fn(name);
}

async function prepare(kamal: Kamal, name: string): Promise<void> {
  await withAccessory(kamal, name, (accessory, hosts) =>
    kamal.on(hosts, async (host) => {
      await kamal.exec(host, kamal.cmds.registry.login(accessory.registry));
      const r = await kamal.exec(host, kamal.cmds.docker.createNetwork(), { allowFailure: true });
      if (r.exitCode !== 0 && !r.stderr.includes('already exists')) {
        throw new CommandFailedError({ host, command: r.command, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
      }
    }),
  );
}

export async function accessoryBoot(kamal: Kamal, name: string, opts: { prepare?: boolean } = {}): Promise<void> {
  ensureAccessory(kamal, name);
  preflight(kamal, { app: false, accessories: name === 'all' ? true : [name] });
  await withLock(kamal, () =>
    eachName(kamal, name, async (n) => {
      if (opts.prepare !== false) await prepare(kamal, n);
      await withAccessory(kamal, n, async (accessory, allHosts) => {
        const booted: string[] = [];
        await kamal.on(allHosts, async (host) => {
          const info = await kamal.capture(host, accessory.info({ all: true, quiet: true }), { placeholder: '' });
          if (info) booted.push(host);
        });
        if (booted.length > 0) {
          kamal.say(`Skipping booting \`${n}\` on ${booted.sort().join(', ')}, a container already exists`, 'warn');
        }
        const hosts = allHosts.filter((h) => !booted.includes(h));
        await accessoryDirectories(kamal, n);
        await accessoryUpload(kamal, n);
        await kamal.step(`boot accessory ${n}`, () =>
          kamal.on(hosts, async (host) => {
            await kamal.exec(host, kamal.cmds.auditor().record(`Booted ${n} accessory`));
            await kamal.exec(host, accessory.ensureEnvDirectory());
            await kamal.upload(host, accessory.secretsIo(), accessory.secretsPath, { mode: '600' });
            await kamal.exec(host, accessory.run({ host }));
            if (accessory.runningProxy) {
              const target = await kamal.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
                placeholder: '<container-id>',
              });
              await kamal.exec(host, accessory.deploy({ target }));
            }
          }),
        );
      });
    }),
  );
}

export async function accessoryUpload(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await withLock(kamal, () =>
    eachName(kamal, name, (n) =>
      withAccessory(kamal, n, (accessory, hosts) =>
        kamal.on(hosts, async (host) => {
          for (const file of accessory.files) {
            const local = resolve(kamal.cwd, file.local);
            let content: Buffer;
            try {
              if (!statSync(local).isFile()) throw new Error('not a file');
              content = readFileSync(local);
            } catch {
              throw new ConfigError([{ path: `accessories/${n}/files`, message: `Missing file: ${file.local}` }]);
            }
            if (file.dynamic) {
              // Kamal: ERB.new(text).result (no trim mode), with the accessory's env set in ENV
              const env: Record<string, string | undefined> = { ...kamal.env };
              for (const [key, v] of accessory.accessoryConfig.env.toH()) env[key] = v instanceof Secret ? v.reveal() : String(v);
              content = Buffer.from(renderErb(content.toString('utf8'), env, { file: file.local, cwd: kamal.cwd, trimMode: null }));
            }
            await kamal.exec(host, accessory.makeFileDirectory(file));
            await kamal.upload(host, content, file.hostPath);
            for (const c of accessory.filePermissions(file)) await kamal.exec(host, c);
          }
        }),
      ),
    ),
  );
}

export async function accessoryDirectories(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await withLock(kamal, () =>
    eachName(kamal, name, (n) =>
      withAccessory(kamal, n, (accessory, hosts) =>
        kamal.on(hosts, async (host) => {
          for (const dir of accessory.directories) {
            await kamal.exec(host, accessory.makeDataDirectory(dir));
            for (const c of accessory.dataDirectoryPermissions(dir)) await kamal.exec(host, c);
          }
        }),
      ),
    ),
  );
}

export async function accessoryReboot(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  // before the old container is stopped: a missing secret must not leave the accessory down
  preflight(kamal, { app: false, accessories: name === 'all' ? true : [name] });
  await withLock(kamal, () =>
    eachName(kamal, name, async (n) => {
      await prepare(kamal, n);
      await accessoryPullImage(kamal, n);
      await accessoryStop(kamal, n);
      await accessoryRemoveContainer(kamal, n);
      await accessoryBoot(kamal, n, { prepare: false });
    }),
  );
}

/** `accessory upgrade NAME`: reboots the accessories into the kamal network, all hosts at once or one host at a time (--rolling). */
export async function accessoryUpgrade(kamal: Kamal, name: string, opts: { rolling?: boolean } = {}): Promise<void> {
  ensureAccessory(kamal, name);
  if (!(await kamal.confirm('This will restart all accessories'))) {
    kamal.say('Aborted', 'error');
    return;
  }
  await withLock(kamal, async () => {
    const all = kamal.accessoryHosts;
    const groups = opts.rolling ? all.map((h) => [h]) : [all];
    for (const hosts of groups) {
      await kamal.withSpecificHosts(hosts, async () => {
        kamal.say(`Upgrading ${name} accessories on ${hosts.join(',')}...`);
        await accessoryReboot(kamal, name);
        kamal.say(`Upgraded ${name} accessories on ${hosts.join(',')}...`);
      });
    }
  });
}

export async function accessoryRemoveContainer(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  await withLock(kamal, () =>
    withAccessory(kamal, name, (accessory, hosts) =>
      kamal.on(hosts, async (host) => {
        await kamal.exec(host, kamal.cmds.auditor().record(`Remove ${name} accessory container`));
        await kamal.exec(host, accessory.removeContainer());
      }),
    ),
  );
}

export async function accessoryRemoveImage(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  await withLock(kamal, () =>
    withAccessory(kamal, name, (accessory, hosts) =>
      kamal.on(hosts, async (host) => {
        await kamal.exec(host, kamal.cmds.auditor().record(`Removed ${name} accessory image`));
        await kamal.exec(host, accessory.removeImage());
      }),
    ),
  );
}

export async function accessoryRemoveServiceDirectory(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  await withLock(kamal, () =>
    withAccessory(kamal, name, (accessory, hosts) =>
      kamal.on(hosts, async (host) => {
        await kamal.exec(host, accessory.removeServiceDirectory());
      }),
    ),
  );
}

export async function accessoryPullImage(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  await withLock(kamal, () =>
    withAccessory(kamal, name, (accessory, hosts) =>
      kamal.on(hosts, async (host) => {
        await kamal.exec(host, kamal.cmds.auditor().record(`Pull ${name} accessory image`));
        await kamal.exec(host, accessory.pullImage());
      }),
    ),
  );
}

export async function accessoryStart(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await withLock(kamal, () =>
    eachName(kamal, name, (n) =>
      withAccessory(kamal, n, (accessory, hosts) =>
        kamal.on(hosts, async (host) => {
          await kamal.exec(host, kamal.cmds.auditor().record(`Started ${n} accessory`));
          await kamal.exec(host, accessory.start());
          if (accessory.runningProxy) {
            const target = await kamal.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
              placeholder: '<container-id>',
            });
            await kamal.exec(host, accessory.deploy({ target }));
          }
        }),
      ),
    ),
  );
}

export async function accessoryStop(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await withLock(kamal, () =>
    eachName(kamal, name, (n) =>
      withAccessory(kamal, n, (accessory, hosts) =>
        kamal.on(hosts, async (host) => {
          await kamal.exec(host, kamal.cmds.auditor().record(`Stopped ${n} accessory`));
          await kamal.exec(host, accessory.stop(), { allowFailure: true });
          if (accessory.runningProxy) {
            const target = await kamal.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
              allowFailure: true,
              placeholder: '<container-id>',
            });
            if (target) await kamal.exec(host, accessory.remove());
          }
        }),
      ),
    ),
  );
}

export async function accessoryRestart(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await withLock(kamal, async () => {
    await accessoryStop(kamal, name);
    await accessoryStart(kamal, name);
  });
}

export async function accessoryDetails(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  await eachName(kamal, name, (n) =>
    withAccessory(kamal, n, (accessory, hosts) =>
      kamal.on(hosts, async (host) => {
        kamal.reporter.hostOutput(host, await kamal.capture(host, accessory.info(), { allowFailure: true }), `Accessory ${n}`);
      }),
    ),
  );
}

export async function accessoryLogs(
  kamal: Kamal,
  name: string,
  opts: { since?: string; lines?: number; grep?: string; grepOptions?: string; timestamps?: boolean; follow?: boolean },
): Promise<void> {
  ensureAccessory(kamal, name, { all: false });
  if (opts.follow) {
    await withAccessory(kamal, name, async (accessory, hosts) => {
      kamal.say(`Following logs on ${hosts.join(', ')}...`);
      // Kamal's follow_logs runs on the accessory's first host
      await runInteractive(
        kamal,
        accessory.hosts[0]!,
        accessory.followLogsOnHost({ timestamps: opts.timestamps ?? true, grep: opts.grep, grepOptions: opts.grepOptions }),
        { announce: true },
      );
    });
    return;
  }
  const lines = opts.lines ?? (opts.since || opts.grep ? undefined : 100);
  await withAccessory(kamal, name, (accessory, hosts) =>
    kamal.on(hosts, async (host) => {
      const r = await kamal.exec(
        host,
        accessory.logs({ timestamps: opts.timestamps ?? true, since: opts.since, lines, grep: opts.grep, grepOptions: opts.grepOptions }),
        { allowFailure: true },
      );
      kamal.reporter.hostOutput(host, `${r.stdout}${r.stderr}`.trim(), `Accessory ${name}`);
    }),
  );
}

export async function accessoryExec(
  kamal: Kamal,
  name: string,
  command: string,
  opts: { reuse?: boolean; interactive?: boolean; raw?: boolean } = {},
): Promise<void> {
  if (opts.raw && opts.interactive) throw new UsageError('Raw is not compatible with interactive');
  const say = (message: string): void => {
    if (!opts.raw) kamal.say(message);
  };
  await kamal.preConnect();
  ensureAccessory(kamal, name, { all: false });
  await withAccessory(kamal, name, async (accessory, hosts) => {
    if (opts.interactive) {
      const host = accessory.hosts[0]!;
      // Kamal's docker_interactive_args: `-it` when stdin is a terminal, `-i` when piped
      const interactive = { interactive: true, tty: stdinIsTty(kamal) };
      if (opts.reuse) {
        say('Launching interactive command via SSH from existing container...');
        await runInteractive(kamal, host, accessory.executeInExistingContainer(command, interactive));
      } else {
        say('Launching interactive command via SSH from new container...');
        await kamal.on(host, async (h) => void (await kamal.exec(h, kamal.cmds.registry.login())));
        await runInteractive(kamal, host, accessory.executeInNewContainer(command, interactive));
      }
      return;
    }
    say(opts.reuse ? 'Launching command from existing container...' : 'Launching command from new container...');
    await kamal.on(hosts, async (host) => {
      if (!opts.reuse) await kamal.exec(host, kamal.cmds.registry.login());
      await kamal.exec(host, kamal.cmds.auditor().record(`Executed cmd '${command}' on ${name} accessory`));
      const c = opts.reuse ? accessory.executeInExistingContainer(command) : accessory.executeInNewContainer(command);
      const r = await kamal.exec(host, c);
      if (opts.raw) kamal.reporter.write(r.stdout);
      else kamal.reporter.hostOutput(host, r.stdout.trim());
    });
  });
}

export async function accessoryRemove(kamal: Kamal, name: string): Promise<void> {
  ensureAccessory(kamal, name);
  if (!(await kamal.confirm(`This will remove all containers, images and data directories for ${name}. Are you sure?`))) {
    kamal.say('Aborted', 'error');
    return;
  }
  await withLock(kamal, () =>
    eachName(kamal, name, async (n) => {
      await accessoryStop(kamal, n);
      await accessoryRemoveContainer(kamal, n);
      await accessoryRemoveImage(kamal, n);
      await accessoryRemoveServiceDirectory(kamal, n);
    }),
  );
}
