/** `server` (Kamal::Cli::Server): Docker installed on every host, and ad-hoc commands on the hosts. */
import { UsageError } from '../errors.js';
import { cmd, raw } from '../shell.js';
import { runInteractive } from './interactive.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';

export async function serverBootstrap(kamal: Kamal): Promise<void> {
  await withLock(kamal, async () => {
    const missing: string[] = [];
    await kamal.step('server bootstrap', () =>
      kamal.on(kamal.hosts, async (host) => {
        const docker = kamal.cmds.docker;
        if (await kamal.test(host, docker.installed())) return;
        if (await kamal.test(host, docker.superuser())) {
          kamal.say(`Missing Docker on ${host}. Installing…`);
          await kamal.exec(host, docker.install());
          if (!(await kamal.test(host, docker.root())) && !(await kamal.test(host, docker.inDockerGroup()))) {
            await kamal.exec(host, docker.addToDockerGroup());
            // the refresh ends the session (Kamal rescues the IOError of the closed stream)
            const refresh = await kamal.exec(host, docker.refreshSession(), { allowFailure: true });
            if (refresh.exitCode !== 0) kamal.say('Session refreshed due to group change.');
          }
        } else missing.push(host);
      }),
    );
    if (missing.length > 0) {
      throw new UsageError(
        `Docker is not installed on ${missing.join(', ')} and can't be automatically installed without having root access and either \`wget\` or \`curl\`. Install Docker manually: https://docs.docker.com/engine/install/`,
      );
    }
    await kamal.runHook('docker-setup');
  });
}

export async function serverExec(kamal: Kamal, command: string, opts: { interactive?: boolean; raw?: boolean } = {}): Promise<void> {
  if (opts.raw && opts.interactive) throw new UsageError('Raw is not compatible with interactive');
  await kamal.preConnect();
  if (opts.interactive) {
    const host = kamal.primaryHost;
    kamal.say(`Running '${command}' on ${host} interactively...`);
    await runInteractive(kamal, host, cmd(raw(command)));
    return;
  }
  if (!opts.raw) kamal.say(`Running '${command}' on ${kamal.hosts.join(', ')}...`);
  await kamal.on(kamal.hosts, async (host) => {
    await kamal.exec(host, kamal.cmds.auditor().record(`Executed cmd '${command}' on ${host}`));
    const result = await kamal.exec(host, cmd(raw(command)));
    if (opts.raw) kamal.reporter.write(result.stdout);
    else kamal.reporter.hostOutput(host, result.stdout.trim(), 'App');
  });
}
