/** `app ...` subcommands besides boot (Kamal::Cli::App). */
import { BootError, UsageError } from '../errors.js';
import { LOCAL } from '../exec/types.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { appBoot, currentRunningVersion, staleContainers, usingVersion } from './app.js';
import { proxyRemove } from './proxy.js';
import { accessoryRemove } from './accessory.js';
import { registryRemove } from './registry.js';
import { runInteractive, stdinIsTty } from './interactive.js';

export async function appBootCommand(k: Kamal, version?: string): Promise<void> {
  // without --version: the latest image (Kamal's version_or_latest)
  await appBoot(k, { version: version ?? k.config.latestTag, latest: !version });
}

export async function staleContainersCommand(k: Kamal, stop: boolean): Promise<void> {
  await staleContainers(k, { stop });
}

export async function appStart(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.onRoles(
      k.roles,
      k.appHosts,
      async (host, role) => {
        const app = k.cmds.app(role, host);
        await k.exec(host, k.cmds.auditor().record(`Started app version ${k.config.version}`));
        await k.exec(host, app.start(), { allowFailure: true });
        if (role.runningProxy) {
          const version = await k.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' });
          const endpoint = await k.capture(host, app.containerIdForVersion(version), { placeholder: '<container-id>' });
          if (!endpoint) throw new BootError(`Failed to get endpoint for ${role.name} on ${host}, did the container boot?`);
          await k.exec(host, app.deploy({ target: endpoint }));
        }
      },
      !!k.config.boot.parallelRoles,
    ),
  );
}

export async function appStop(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.onRoles(
      k.roles,
      k.appHosts,
      async (host, role) => {
        const app = k.cmds.app(role, host);
        await k.exec(host, k.cmds.auditor({ role }).record('Stopped app'));
        if (role.runningProxy) {
          const version = await k.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' });
          const endpoint = await k.capture(host, app.containerIdForVersion(version), {
            allowFailure: true,
            placeholder: '<container-id>',
          });
          if (endpoint) await k.exec(host, app.remove(), { allowFailure: true });
        }
        await k.exec(host, app.stop(), { allowFailure: true });
      },
      !!k.config.boot.parallelRoles,
    ),
  );
}

export async function appDetails(k: Kamal): Promise<void> {
  await k.onRoles(k.roles, k.appHosts, async (host, role) => {
    k.reporter.hostOutput(host, await k.capture(host, k.cmds.app(role, host).info(), { allowFailure: true }));
  });
}

export async function appContainers(k: Kamal): Promise<void> {
  await k.on(k.appHosts, async (host) => {
    k.reporter.hostOutput(host, await k.capture(host, k.cmds.app().listContainers(), { allowFailure: true }));
  });
}

export async function appImages(k: Kamal): Promise<void> {
  await k.on(k.appHosts, async (host) => {
    k.reporter.hostOutput(host, await k.capture(host, k.cmds.app().listImages(), { allowFailure: true }));
  });
}

export async function appVersion(k: Kamal): Promise<void> {
  await k.on(k.appHosts, async (host) => {
    const role = k.rolesOn(host)[0];
    if (!role) return;
    k.reporter.hostOutput(
      host,
      await k.capture(host, k.cmds.app(role, host).currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' }),
    );
  });
}

export interface LogOptions {
  since?: string;
  lines?: number;
  grep?: string;
  grepOptions?: string;
  follow?: boolean;
  timestamps?: boolean;
  containerId?: string;
}

export async function appLogs(k: Kamal, o: LogOptions): Promise<void> {
  if (o.follow) {
    const lines = o.lines ?? (o.since || o.grep ? undefined : 10);
    if (!k.specificRoles && k.primaryRole) k.specificRoles = [k.primaryRole.name];
    const host = k.primaryHost;
    const role = k.rolesOn(host)[0];
    if (!role) throw new UsageError(`No app role runs on ${host}`);
    k.say(`Following logs on ${host}...`);
    await runInteractive(
      k,
      host,
      k.cmds.app(role, host).followLogsOnHost({
        containerId: o.containerId,
        timestamps: o.timestamps ?? true,
        lines,
        grep: o.grep,
        grepOptions: o.grepOptions,
      }),
      { announce: true },
    );
    return;
  }
  const lines = o.lines ?? (o.since || o.grep ? undefined : 100);
  await k.onRoles(k.roles, k.appHosts, async (host, role) => {
    const r = await k.exec(
      host,
      k.cmds.app(role, host).logs({
        containerId: o.containerId,
        timestamps: o.timestamps ?? true,
        since: o.since,
        lines,
        grep: o.grep,
        grepOptions: o.grepOptions,
      }),
      { allowFailure: true },
    );
    const text = `${r.stdout}${r.stderr}`.trim();
    k.reporter.hostOutput(host, r.exitCode === 0 || text ? text : 'Nothing found');
  });
}

export interface ExecOptions {
  interactive?: boolean;
  reuse?: boolean;
  detach?: boolean;
  /** Print only the command's output, unmodified (no messages, no host heading). */
  raw?: boolean;
  env?: Record<string, string>;
}

export async function appExec(k: Kamal, args: string[], o: ExecOptions): Promise<void> {
  if (o.detach && (o.interactive || o.reuse)) {
    throw new UsageError(`Detach is not compatible with ${[o.interactive && 'interactive', o.reuse && 'reuse'].filter(Boolean).join(' or ')}`);
  }
  if (o.raw && (o.interactive || o.detach)) {
    throw new UsageError(`Raw is not compatible with ${[o.interactive && 'interactive', o.detach && 'detach'].filter(Boolean).join(' or ')}`);
  }
  if (args.length === 0) throw new UsageError('No command provided. You must specify a command to execute.');
  // --raw: only the command's own output, unmodified (Kamal's with_raw_output)
  const say = (message: string): void => {
    if (!o.raw) k.say(message);
  };
  const print = (host: string, stdout: string): void => {
    if (o.raw) k.reporter.write(stdout);
    else k.reporter.hostOutput(host, stdout.trim());
  };
  const command = args.map((a) => a.trim()).join(' ');
  await k.preConnect();

  if (o.interactive) {
    const host = k.primaryHost;
    const role = k.primaryRole!;
    const app = k.cmds.app(role, host);
    // Kamal's docker_interactive_args: `-it` when stdin is a terminal, `-i` when piped
    const interactive = { env: o.env, interactive: true, tty: stdinIsTty(k) };
    if (o.reuse) {
      if (!k.options.version) say('Get current version of running container...');
      const version = k.options.version ?? (await currentRunningVersion(k));
      await usingVersion(k, version, async (v) => {
        say(`Launching interactive command with version ${v} via SSH from existing container on ${host}...`);
        await runInteractive(k, host, app.executeInExistingContainer(command, interactive));
      });
    } else {
      if (!k.options.version) say('Get most recent version available as an image...');
      await usingVersion(k, k.options.version ?? k.config.latestTag, async (v) => {
        say(`Launching interactive command with version ${v} via SSH from new container on ${host}...`);
        await k.exec(host, k.cmds.registry.login());
        await runInteractive(k, host, app.executeInNewContainer(command, interactive));
      });
    }
    return;
  }

  if (o.reuse) {
    if (!k.options.version) say('Get current version of running container...');
    const version = k.options.version ?? (await currentRunningVersion(k));
    await usingVersion(k, version, async (v) => {
      say(`Launching command with version ${v} from existing container...`);
      await k.onRoles(k.roles, k.appHosts, async (host, role) => {
        await k.exec(host, k.cmds.auditor({ role }).record(`Executed cmd '${command}' on app version ${v}`));
        const r = await k.exec(host, k.cmds.app(role, host).executeInExistingContainer(command, { env: o.env }));
        print(host, r.stdout);
      });
    });
    return;
  }

  if (!k.options.version) say('Get most recent version available as an image...');
  await usingVersion(k, k.options.version ?? k.config.latestTag, async (v) => {
    say(`Launching command with version ${v} from new container...`);
    await k.on(k.appHosts, async (host) => void (await k.exec(host, k.cmds.registry.login())));
    await k.onRoles(k.roles, k.appHosts, async (host, role) => {
      await k.exec(host, k.cmds.auditor().record(`Executed cmd '${command}' on app version ${v}`));
      const r = await k.exec(host, k.cmds.app(role, host).executeInNewContainer(command, { env: o.env, detach: o.detach }));
      print(host, r.stdout);
    });
  });
}

function hostsRemovingAllRoles(k: Kamal): string[] {
  return k.appHosts.filter((host) => {
    const selected = k.rolesOn(host).map((r) => r.name).sort();
    const all = k.config.hostRoles(host).map((r) => r.name).sort();
    return selected.join(',') === all.join(',');
  });
}

export async function appRemove(k: Kamal): Promise<void> {
  await withLock(k, async () => {
    await appStop(k);
    await appRemoveContainers(k);
    await appRemoveImages(k);
    await appRemoveAppDirectories(k);
  });
}

/** `kamal app remove_container VERSION` (hidden in Kamal's help). */
export async function appRemoveContainer(k: Kamal, version: string): Promise<void> {
  await withLock(k, () =>
    k.onRoles(k.roles, k.appHosts, async (host, role) => {
      await k.exec(host, k.cmds.auditor({ role }).record(`Removed app container with version ${version}`));
      await k.exec(host, k.cmds.app(role, host).removeContainer({ version }));
    }),
  );
}

/** `kamal app remove_containers` (hidden in Kamal's help). */
export async function appRemoveContainers(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.onRoles(k.roles, k.appHosts, async (host, role) => {
      await k.exec(host, k.cmds.auditor({ role }).record('Removed all app containers'));
      await k.exec(host, k.cmds.app(role, host).removeContainers());
    }),
  );
}

/** `kamal app remove_images` (hidden in Kamal's help): only on hosts where every role of the host is selected. */
export async function appRemoveImages(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(hostsRemovingAllRoles(k), async (host) => {
      await k.exec(host, k.cmds.auditor().record('Removed all app images'));
      await k.exec(host, k.cmds.app().removeImages());
    }),
  );
}

/** `kamal app remove_app_directories` (hidden in Kamal's help): only on hosts where every role of the host is selected. */
export async function appRemoveAppDirectories(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.on(hostsRemovingAllRoles(k), async (host) => {
      await k.exec(host, k.cmds.server.removeAppDirectory(), { allowFailure: true });
      await k.exec(host, k.cmds.auditor().record(`Removed ${k.config.appDirectory}`));
      await k.exec(host, k.cmds.app().removeProxyAppDirectory(), { allowFailure: true });
    }),
  );
}

export async function appLive(k: Kamal): Promise<void> {
  await withLock(k, () =>
    k.onRoles(k.roles, k.proxyHosts, async (host, role) => {
      if (role.runningProxy) await k.exec(host, k.cmds.app(role, host).live());
    }),
  );
}

export async function appMaintenance(k: Kamal, o: { drainTimeout?: number; message?: string }): Promise<void> {
  const drainTimeout = o.drainTimeout ?? k.config.drainTimeout;
  await withLock(k, () =>
    k.onRoles(k.roles, k.proxyHosts, async (host, role) => {
      if (role.runningProxy) await k.exec(host, k.cmds.app(role, host).maintenance({ drainTimeout, message: o.message }));
    }),
  );
}

/** `kamal remove`: app, proxy, accessories and registry sessions, after confirmation. */
export async function removeEverything(k: Kamal): Promise<void> {
  if (!(await k.confirm('This will remove all containers and images. Are you sure?'))) {
    k.say('Aborted', 'error');
    return;
  }
  await withLock(k, async () => {
    await appRemove(k);
    await proxyRemove(k);
    k.options.confirmed = true;
    await accessoryRemove(k, 'all');
    await registryRemove(k, { skipLocal: true });
  });
}

export { LOCAL };
