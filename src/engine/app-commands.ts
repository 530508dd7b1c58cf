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

export async function appBootCommand(kamal: Kamal, version?: string): Promise<void> {
  // without --version: the latest image (Kamal's version_or_latest)
  await appBoot(kamal, { version: version ?? kamal.config.latestTag, latest: !version });
}

export async function staleContainersCommand(kamal: Kamal, stop: boolean): Promise<void> {
  await staleContainers(kamal, { stop });
}

export async function appStart(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.onRoles(
      kamal.roles,
      kamal.appHosts,
      async (host, role) => {
        const app = kamal.cmds.app(role, host);
        await kamal.exec(host, kamal.cmds.auditor().record(`Started app version ${kamal.config.version}`));
        await kamal.exec(host, app.start(), { allowFailure: true });
        if (role.runningProxy) {
          const version = await kamal.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' });
          const endpoint = await kamal.capture(host, app.containerIdForVersion(version), { placeholder: '<container-id>' });
          if (!endpoint) throw new BootError(`Failed to get endpoint for ${role.name} on ${host}, did the container boot?`);
          await kamal.exec(host, app.deploy({ target: endpoint }));
        }
      },
      !!kamal.config.boot.parallelRoles,
    ),
  );
}

export async function appStop(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.onRoles(
      kamal.roles,
      kamal.appHosts,
      async (host, role) => {
        const app = kamal.cmds.app(role, host);
        await kamal.exec(host, kamal.cmds.auditor({ role }).record('Stopped app'));
        if (role.runningProxy) {
          const version = await kamal.capture(host, app.currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' });
          const endpoint = await kamal.capture(host, app.containerIdForVersion(version), {
            allowFailure: true,
            placeholder: '<container-id>',
          });
          if (endpoint) await kamal.exec(host, app.remove(), { allowFailure: true });
        }
        await kamal.exec(host, app.stop(), { allowFailure: true });
      },
      !!kamal.config.boot.parallelRoles,
    ),
  );
}

export async function appDetails(kamal: Kamal): Promise<void> {
  await kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
    kamal.reporter.hostOutput(host, await kamal.capture(host, kamal.cmds.app(role, host).info(), { allowFailure: true }));
  });
}

export async function appContainers(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.appHosts, async (host) => {
    kamal.reporter.hostOutput(host, await kamal.capture(host, kamal.cmds.app().listContainers(), { allowFailure: true }));
  });
}

export async function appImages(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.appHosts, async (host) => {
    kamal.reporter.hostOutput(host, await kamal.capture(host, kamal.cmds.app().listImages(), { allowFailure: true }));
  });
}

export async function appVersion(kamal: Kamal): Promise<void> {
  await kamal.on(kamal.appHosts, async (host) => {
    const role = kamal.rolesOn(host)[0];
    if (!role) return;
    kamal.reporter.hostOutput(
      host,
      await kamal.capture(host, kamal.cmds.app(role, host).currentRunningVersion(), { allowFailure: true, placeholder: '<current-version>' }),
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

export async function appLogs(kamal: Kamal, o: LogOptions): Promise<void> {
  if (o.follow) {
    const lines = o.lines ?? (o.since || o.grep ? undefined : 10);
    if (!kamal.specificRoles && kamal.primaryRole) kamal.specificRoles = [kamal.primaryRole.name];
    const host = kamal.primaryHost;
    const role = kamal.rolesOn(host)[0];
    if (!role) throw new UsageError(`No app role runs on ${host}`);
    kamal.say(`Following logs on ${host}...`);
    await runInteractive(
      kamal,
      host,
      kamal.cmds.app(role, host).followLogsOnHost({
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
  await kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
    const r = await kamal.exec(
      host,
      kamal.cmds.app(role, host).logs({
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
    kamal.reporter.hostOutput(host, r.exitCode === 0 || text ? text : 'Nothing found');
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

export async function appExec(kamal: Kamal, args: string[], o: ExecOptions): Promise<void> {
  if (o.detach && (o.interactive || o.reuse)) {
    throw new UsageError(`Detach is not compatible with ${[o.interactive && 'interactive', o.reuse && 'reuse'].filter(Boolean).join(' or ')}`);
  }
  if (o.raw && (o.interactive || o.detach)) {
    throw new UsageError(`Raw is not compatible with ${[o.interactive && 'interactive', o.detach && 'detach'].filter(Boolean).join(' or ')}`);
  }
  if (args.length === 0) throw new UsageError('No command provided. You must specify a command to execute.');
  // --raw: only the command's own output, unmodified (Kamal's with_raw_output)
  const say = (message: string): void => {
    if (!o.raw) kamal.say(message);
  };
  const print = (host: string, stdout: string): void => {
    if (o.raw) kamal.reporter.write(stdout);
    else kamal.reporter.hostOutput(host, stdout.trim());
  };
  const command = args.map((a) => a.trim()).join(' ');
  await kamal.preConnect();

  if (o.interactive) {
    const host = kamal.primaryHost;
    const role = kamal.primaryRole!;
    const app = kamal.cmds.app(role, host);
    // Kamal's docker_interactive_args: `-it` when stdin is a terminal, `-i` when piped
    const interactive = { env: o.env, interactive: true, tty: stdinIsTty(kamal) };
    if (o.reuse) {
      if (!kamal.options.version) say('Get current version of running container...');
      const version = kamal.options.version ?? (await currentRunningVersion(kamal));
      await usingVersion(kamal, version, async (v) => {
        say(`Launching interactive command with version ${v} via SSH from existing container on ${host}...`);
        await runInteractive(kamal, host, app.executeInExistingContainer(command, interactive));
      });
    } else {
      if (!kamal.options.version) say('Get most recent version available as an image...');
      await usingVersion(kamal, kamal.options.version ?? kamal.config.latestTag, async (v) => {
        say(`Launching interactive command with version ${v} via SSH from new container on ${host}...`);
        await kamal.exec(host, kamal.cmds.registry.login());
        await runInteractive(kamal, host, app.executeInNewContainer(command, interactive));
      });
    }
    return;
  }

  if (o.reuse) {
    if (!kamal.options.version) say('Get current version of running container...');
    const version = kamal.options.version ?? (await currentRunningVersion(kamal));
    await usingVersion(kamal, version, async (v) => {
      say(`Launching command with version ${v} from existing container...`);
      await kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
        await kamal.exec(host, kamal.cmds.auditor({ role }).record(`Executed cmd '${command}' on app version ${v}`));
        const r = await kamal.exec(host, kamal.cmds.app(role, host).executeInExistingContainer(command, { env: o.env }));
        print(host, r.stdout);
      });
    });
    return;
  }

  if (!kamal.options.version) say('Get most recent version available as an image...');
  await usingVersion(kamal, kamal.options.version ?? kamal.config.latestTag, async (v) => {
    say(`Launching command with version ${v} from new container...`);
    await kamal.on(kamal.appHosts, async (host) => void (await kamal.exec(host, kamal.cmds.registry.login())));
    await kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
      await kamal.exec(host, kamal.cmds.auditor().record(`Executed cmd '${command}' on app version ${v}`));
      const r = await kamal.exec(host, kamal.cmds.app(role, host).executeInNewContainer(command, { env: o.env, detach: o.detach }));
      print(host, r.stdout);
    });
  });
}

function hostsRemovingAllRoles(kamal: Kamal): string[] {
  return kamal.appHosts.filter((host) => {
    const selected = kamal
      .rolesOn(host)
      .map((r) => r.name)
      .sort();
    const all = kamal.config
      .hostRoles(host)
      .map((r) => r.name)
      .sort();
    return selected.join(',') === all.join(',');
  });
}

export async function appRemove(kamal: Kamal): Promise<void> {
  await withLock(kamal, async () => {
    await appStop(kamal);
    await appRemoveContainers(kamal);
    await appRemoveImages(kamal);
    await appRemoveAppDirectories(kamal);
  });
}

/** `kamal app remove_container VERSION` (hidden in Kamal's help). */
export async function appRemoveContainer(kamal: Kamal, version: string): Promise<void> {
  await withLock(kamal, () =>
    kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
      await kamal.exec(host, kamal.cmds.auditor({ role }).record(`Removed app container with version ${version}`));
      await kamal.exec(host, kamal.cmds.app(role, host).removeContainer({ version }));
    }),
  );
}

/** `kamal app remove_containers` (hidden in Kamal's help). */
export async function appRemoveContainers(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.onRoles(kamal.roles, kamal.appHosts, async (host, role) => {
      await kamal.exec(host, kamal.cmds.auditor({ role }).record('Removed all app containers'));
      await kamal.exec(host, kamal.cmds.app(role, host).removeContainers());
    }),
  );
}

/** `kamal app remove_images` (hidden in Kamal's help): only on hosts where every role of the host is selected. */
export async function appRemoveImages(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(hostsRemovingAllRoles(kamal), async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Removed all app images'));
      await kamal.exec(host, kamal.cmds.app().removeImages());
    }),
  );
}

/** `kamal app remove_app_directories` (hidden in Kamal's help): only on hosts where every role of the host is selected. */
export async function appRemoveAppDirectories(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(hostsRemovingAllRoles(kamal), async (host) => {
      await kamal.exec(host, kamal.cmds.server.removeAppDirectory(), { allowFailure: true });
      await kamal.exec(host, kamal.cmds.auditor().record(`Removed ${kamal.config.appDirectory}`));
      await kamal.exec(host, kamal.cmds.app().removeProxyAppDirectory(), { allowFailure: true });
    }),
  );
}

export async function appLive(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.onRoles(kamal.roles, kamal.proxyHosts, async (host, role) => {
      if (role.runningProxy) await kamal.exec(host, kamal.cmds.app(role, host).live());
    }),
  );
}

export async function appMaintenance(kamal: Kamal, o: { drainTimeout?: number; message?: string }): Promise<void> {
  const drainTimeout = o.drainTimeout ?? kamal.config.drainTimeout;
  await withLock(kamal, () =>
    kamal.onRoles(kamal.roles, kamal.proxyHosts, async (host, role) => {
      if (role.runningProxy) await kamal.exec(host, kamal.cmds.app(role, host).maintenance({ drainTimeout, message: o.message }));
    }),
  );
}

/** `kamal remove`: app, proxy, accessories and registry sessions, after confirmation. */
export async function removeEverything(kamal: Kamal): Promise<void> {
  if (!(await kamal.confirm('This will remove all containers and images. Are you sure?'))) {
    kamal.say('Aborted', 'error');
    return;
  }
  await withLock(kamal, async () => {
    await appRemove(kamal);
    await proxyRemove(kamal);
    kamal.options.confirmed = true;
    await accessoryRemove(kamal, 'all');
    await registryRemove(kamal, { skipLocal: true });
  });
}

export { LOCAL };
