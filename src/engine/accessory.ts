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

function names(k: Kamal): string[] {
  return k.config.accessories.map((a) => a.name);
}

/**
 * Refuses an unknown accessory name (or `all` where it is not accepted) before
 * the lock is taken or a host is touched.
 */
export function ensureAccessory(k: Kamal, name: string, opts: { all?: boolean } = {}): void {
  if (opts.all !== false && name === 'all') return;
  if (!k.config.accessory(name)) {
    const options = names(k);
    throw new UsageError(`No accessory by the name of '${name}'${options.length ? ` (options: ${toSentence(options)})` : ''}`);
  }
}

/** ActiveSupport's Array#to_sentence: "a", "a and b", "a, b, and c". */
function toSentence(items: string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

async function withAccessory(k: Kamal, name: string, fn: (a: AccessoryCmds, hosts: string[]) => Promise<void>): Promise<void> {
  ensureAccessory(k, name, { all: false });
  const accessory = k.cmds.accessory(name);
  const hosts = k.accessoryHosts.filter((h) => accessory.hosts.includes(h));
  await fn(accessory, hosts);
}

async function eachName(k: Kamal, name: string, fn: (n: string) => Promise<void>): Promise<void> {
  if (name === 'all') for (const n of names(k)) await fn(n);
  else await fn(name);
}

async function prepare(k: Kamal, name: string): Promise<void> {
  await withAccessory(k, name, (accessory, hosts) =>
    k.on(hosts, async (host) => {
      await k.exec(host, k.cmds.registry.login(accessory.registry));
      const r = await k.exec(host, k.cmds.docker.createNetwork(), { allowFailure: true });
      if (r.exitCode !== 0 && !r.stderr.includes('already exists')) {
        throw new CommandFailedError({ host, command: r.command, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
      }
    }),
  );
}

export async function accessoryBoot(k: Kamal, name: string, opts: { prepare?: boolean } = {}): Promise<void> {
  ensureAccessory(k, name);
  preflight(k, { app: false, accessories: name === 'all' ? true : [name] });
  await withLock(k, () =>
    eachName(k, name, async (n) => {
      if (opts.prepare !== false) await prepare(k, n);
      await withAccessory(k, n, async (accessory, allHosts) => {
        const booted: string[] = [];
        await k.on(allHosts, async (host) => {
          const info = await k.capture(host, accessory.info({ all: true, quiet: true }), { placeholder: '' });
          if (info) booted.push(host);
        });
        if (booted.length > 0) {
          k.say(`Skipping booting \`${n}\` on ${booted.sort().join(', ')}, a container already exists`, 'warn');
        }
        const hosts = allHosts.filter((h) => !booted.includes(h));
        await accessoryDirectories(k, n);
        await accessoryUpload(k, n);
        await k.step(`boot accessory ${n}`, () =>
          k.on(hosts, async (host) => {
            await k.exec(host, k.cmds.auditor().record(`Booted ${n} accessory`));
            await k.exec(host, accessory.ensureEnvDirectory());
            await k.upload(host, accessory.secretsIo(), accessory.secretsPath, { mode: '600' });
            await k.exec(host, accessory.run({ host }));
            if (accessory.runningProxy) {
              const target = await k.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
                placeholder: '<container-id>',
              });
              await k.exec(host, accessory.deploy({ target }));
            }
          }),
        );
      });
    }),
  );
}

export async function accessoryUpload(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await withLock(k, () =>
    eachName(k, name, (n) =>
      withAccessory(k, n, (accessory, hosts) =>
        k.on(hosts, async (host) => {
          for (const file of accessory.files) {
            const local = resolve(k.cwd, file.local);
            let content: Buffer;
            try {
              if (!statSync(local).isFile()) throw new Error('not a file');
              content = readFileSync(local);
            } catch {
              throw new ConfigError([{ path: `accessories/${n}/files`, message: `Missing file: ${file.local}` }]);
            }
            if (file.dynamic) {
              // Kamal: ERB.new(text).result (no trim mode), with the accessory's env set in ENV
              const env: Record<string, string | undefined> = { ...k.env };
              for (const [key, v] of accessory.accessoryConfig.env.toH()) env[key] = v instanceof Secret ? v.reveal() : String(v);
              content = Buffer.from(renderErb(content.toString('utf8'), env, { file: file.local, cwd: k.cwd, trimMode: null }));
            }
            await k.exec(host, accessory.makeFileDirectory(file));
            await k.upload(host, content, file.hostPath);
            for (const c of accessory.filePermissions(file)) await k.exec(host, c);
          }
        }),
      ),
    ),
  );
}

export async function accessoryDirectories(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await withLock(k, () =>
    eachName(k, name, (n) =>
      withAccessory(k, n, (accessory, hosts) =>
        k.on(hosts, async (host) => {
          for (const dir of accessory.directories) {
            await k.exec(host, accessory.makeDataDirectory(dir));
            for (const c of accessory.dataDirectoryPermissions(dir)) await k.exec(host, c);
          }
        }),
      ),
    ),
  );
}

export async function accessoryReboot(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  // before the old container is stopped: a missing secret must not leave the accessory down
  preflight(k, { app: false, accessories: name === 'all' ? true : [name] });
  await withLock(k, () =>
    eachName(k, name, async (n) => {
      await prepare(k, n);
      await accessoryPullImage(k, n);
      await accessoryStop(k, n);
      await accessoryRemoveContainer(k, n);
      await accessoryBoot(k, n, { prepare: false });
    }),
  );
}

/** `accessory upgrade NAME`: reboots the accessories into the kamal network, all hosts at once or one host at a time (--rolling). */
export async function accessoryUpgrade(k: Kamal, name: string, opts: { rolling?: boolean } = {}): Promise<void> {
  ensureAccessory(k, name);
  if (!(await k.confirm('This will restart all accessories'))) {
    k.say('Aborted', 'error');
    return;
  }
  await withLock(k, async () => {
    const all = k.accessoryHosts;
    const groups = opts.rolling ? all.map((h) => [h]) : [all];
    for (const hosts of groups) {
      await k.withSpecificHosts(hosts, async () => {
        k.say(`Upgrading ${name} accessories on ${hosts.join(',')}...`);
        await accessoryReboot(k, name);
        k.say(`Upgraded ${name} accessories on ${hosts.join(',')}...`);
      });
    }
  });
}

export async function accessoryRemoveContainer(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name, { all: false });
  await withLock(k, () =>
    withAccessory(k, name, (accessory, hosts) =>
      k.on(hosts, async (host) => {
        await k.exec(host, k.cmds.auditor().record(`Remove ${name} accessory container`));
        await k.exec(host, accessory.removeContainer());
      }),
    ),
  );
}

export async function accessoryRemoveImage(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name, { all: false });
  await withLock(k, () =>
    withAccessory(k, name, (accessory, hosts) =>
      k.on(hosts, async (host) => {
        await k.exec(host, k.cmds.auditor().record(`Removed ${name} accessory image`));
        await k.exec(host, accessory.removeImage());
      }),
    ),
  );
}

export async function accessoryRemoveServiceDirectory(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name, { all: false });
  await withLock(k, () =>
    withAccessory(k, name, (accessory, hosts) =>
      k.on(hosts, async (host) => {
        await k.exec(host, accessory.removeServiceDirectory());
      }),
    ),
  );
}

export async function accessoryPullImage(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name, { all: false });
  await withLock(k, () =>
    withAccessory(k, name, (accessory, hosts) =>
      k.on(hosts, async (host) => {
        await k.exec(host, k.cmds.auditor().record(`Pull ${name} accessory image`));
        await k.exec(host, accessory.pullImage());
      }),
    ),
  );
}

export async function accessoryStart(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await withLock(k, () =>
    eachName(k, name, (n) =>
      withAccessory(k, n, (accessory, hosts) =>
        k.on(hosts, async (host) => {
          await k.exec(host, k.cmds.auditor().record(`Started ${n} accessory`));
          await k.exec(host, accessory.start());
          if (accessory.runningProxy) {
            const target = await k.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
              placeholder: '<container-id>',
            });
            await k.exec(host, accessory.deploy({ target }));
          }
        }),
      ),
    ),
  );
}

export async function accessoryStop(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await withLock(k, () =>
    eachName(k, name, (n) =>
      withAccessory(k, n, (accessory, hosts) =>
        k.on(hosts, async (host) => {
          await k.exec(host, k.cmds.auditor().record(`Stopped ${n} accessory`));
          await k.exec(host, accessory.stop(), { allowFailure: true });
          if (accessory.runningProxy) {
            const target = await k.capture(host, accessory.containerIdFor({ containerName: accessory.serviceName, onlyRunning: true }), {
              allowFailure: true,
              placeholder: '<container-id>',
            });
            if (target) await k.exec(host, accessory.remove());
          }
        }),
      ),
    ),
  );
}

export async function accessoryRestart(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await withLock(k, async () => {
    await accessoryStop(k, name);
    await accessoryStart(k, name);
  });
}

export async function accessoryDetails(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  await eachName(k, name, (n) =>
    withAccessory(k, n, (accessory, hosts) =>
      k.on(hosts, async (host) => {
        k.reporter.hostOutput(host, await k.capture(host, accessory.info(), { allowFailure: true }), `Accessory ${n}`);
      }),
    ),
  );
}

export async function accessoryLogs(
  k: Kamal,
  name: string,
  opts: { since?: string; lines?: number; grep?: string; grepOptions?: string; timestamps?: boolean; follow?: boolean },
): Promise<void> {
  ensureAccessory(k, name, { all: false });
  if (opts.follow) {
    await withAccessory(k, name, async (accessory, hosts) => {
      k.say(`Following logs on ${hosts.join(', ')}...`);
      // Kamal's follow_logs runs on the accessory's first host
      await runInteractive(
        k,
        accessory.hosts[0]!,
        accessory.followLogsOnHost({ timestamps: opts.timestamps ?? true, grep: opts.grep, grepOptions: opts.grepOptions }),
        { announce: true },
      );
    });
    return;
  }
  const lines = opts.lines ?? (opts.since || opts.grep ? undefined : 100);
  await withAccessory(k, name, (accessory, hosts) =>
    k.on(hosts, async (host) => {
      const r = await k.exec(
        host,
        accessory.logs({ timestamps: opts.timestamps ?? true, since: opts.since, lines, grep: opts.grep, grepOptions: opts.grepOptions }),
        { allowFailure: true },
      );
      k.reporter.hostOutput(host, `${r.stdout}${r.stderr}`.trim(), `Accessory ${name}`);
    }),
  );
}

export async function accessoryExec(
  k: Kamal,
  name: string,
  command: string,
  opts: { reuse?: boolean; interactive?: boolean; raw?: boolean } = {},
): Promise<void> {
  if (opts.raw && opts.interactive) throw new UsageError('Raw is not compatible with interactive');
  const say = (message: string): void => {
    if (!opts.raw) k.say(message);
  };
  await k.preConnect();
  ensureAccessory(k, name, { all: false });
  await withAccessory(k, name, async (accessory, hosts) => {
    if (opts.interactive) {
      const host = accessory.hosts[0]!;
      // Kamal's docker_interactive_args: `-it` when stdin is a terminal, `-i` when piped
      const interactive = { interactive: true, tty: stdinIsTty(k) };
      if (opts.reuse) {
        say('Launching interactive command via SSH from existing container...');
        await runInteractive(k, host, accessory.executeInExistingContainer(command, interactive));
      } else {
        say('Launching interactive command via SSH from new container...');
        await k.on(host, async (h) => void (await k.exec(h, k.cmds.registry.login())));
        await runInteractive(k, host, accessory.executeInNewContainer(command, interactive));
      }
      return;
    }
    say(opts.reuse ? 'Launching command from existing container...' : 'Launching command from new container...');
    await k.on(hosts, async (host) => {
      if (!opts.reuse) await k.exec(host, k.cmds.registry.login());
      await k.exec(host, k.cmds.auditor().record(`Executed cmd '${command}' on ${name} accessory`));
      const c = opts.reuse ? accessory.executeInExistingContainer(command) : accessory.executeInNewContainer(command);
      const r = await k.exec(host, c);
      if (opts.raw) k.reporter.write(r.stdout);
      else k.reporter.hostOutput(host, r.stdout.trim());
    });
  });
}

export async function accessoryRemove(k: Kamal, name: string): Promise<void> {
  ensureAccessory(k, name);
  if (!(await k.confirm(`This will remove all containers, images and data directories for ${name}. Are you sure?`))) {
    k.say('Aborted', 'error');
    return;
  }
  await withLock(k, () =>
    eachName(k, name, async (n) => {
      await accessoryStop(k, n);
      await accessoryRemoveContainer(k, n);
      await accessoryRemoveImage(k, n);
      await accessoryRemoveServiceDirectory(k, n);
    }),
  );
}
