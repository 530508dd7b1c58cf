/** Building and distributing the image (Kamal::Cli::Build). */
import { resolve } from 'node:path';
import { DependencyError } from '../errors.js';
import { CommandFailedError, LOCAL } from '../exec/types.js';
import type { Kamal } from './kamal.js';

/** Whether `docker buildx` is available locally; probed once per run. */
async function hasBuildx(k: Kamal): Promise<boolean> {
  if (k.buildx !== undefined) return k.buildx;
  if (k.dryRun) return (k.buildx = true);
  const r = await k.exec(LOCAL, k.cmds.builder.buildxVersion(), { allowFailure: true });
  k.buildx = r.exitCode === 0;
  if (!k.buildx) k.say('docker buildx is not available here: building with `docker build`, then `docker push`', 'warn');
  return k.buildx;
}

declare module './kamal.js' {
  interface Kamal {
    buildx?: boolean;
  }
}

async function ensureDockerInstalled(k: Kamal): Promise<void> {
  const r = await k.exec(LOCAL, k.cmds.builder.dockerVersion(), { allowFailure: true });
  if (r.exitCode !== 0) {
    throw new DependencyError(/not found/.test(r.stderr) ? 'Docker is not installed locally' : `Docker is not usable locally: ${r.stderr.trim()}`);
  }
}

export async function buildPush(k: Kamal, opts: { noCache?: boolean; output?: string } = {}): Promise<void> {
  await k.preConnect();
  await ensureDockerInstalled(k);
  const buildx = await hasBuildx(k);
  if (k.cmds.builder.loginToRegistryLocally) await k.exec(LOCAL, k.cmds.registry.login());
  await k.runHook('pre-build');

  const uncommitted = k.gitStatus?.();
  if (uncommitted) k.say(`Building with uncommitted changes:\n ${uncommitted}`, 'warn');

  const cwd = resolve(k.cwd);
  const env = k.builderSecretEnv?.() ?? {};
  await k.step('build', async () => {
    if (buildx) {
      try {
        await k.exec(LOCAL, k.cmds.builder.inspectBuilder());
      } catch (e) {
        if (!(e instanceof CommandFailedError)) throw e;
        if (/(context not found|no builder|no compatible builder|does not exist)/.test(e.stderr + e.stdout)) {
          k.say('Missing compatible builder, so creating a new one first', 'warn');
          await k.exec(LOCAL, k.cmds.builder.remove(), { allowFailure: true });
          await k.exec(LOCAL, k.cmds.builder.create());
        } else throw e;
      }
      await k.exec(LOCAL, k.cmds.builder.push(opts.output ?? 'registry', { noCache: opts.noCache }), {
        env: { ...env, ...k.cmds.builder.pushEnv?.() },
        cwd,
        onStderr: k.options.verbose ? (s) => k.reporter.write(s) : undefined,
      });
    } else {
      await k.exec(LOCAL, k.cmds.builder.pushWithoutBuildx({ noCache: opts.noCache }), {
        env,
        cwd,
        onStderr: k.options.verbose ? (s) => k.reporter.write(s) : undefined,
      });
    }
  });
}

export async function buildPull(k: Kamal): Promise<void> {
  await k.step('pull', async () => {
    await k.on(k.appHosts, async (host) => {
      await k.exec(host, k.cmds.registry.login());
    });
    await pullOnHosts(k, k.appHosts);
  });
}

async function pullOnHosts(k: Kamal, hosts: string[]): Promise<void> {
  await k.on(hosts, async (host) => {
    await k.exec(host, k.cmds.auditor().record(`Pulled image with version ${k.config.version}`));
    await k.exec(host, k.cmds.builder.clean(), { allowFailure: true });
    await k.exec(host, k.cmds.builder.pull());
    await k.exec(host, k.cmds.builder.validateImage());
  });
}

export async function buildDeliver(k: Kamal, opts: { noCache?: boolean } = {}): Promise<void> {
  await buildPush(k, opts);
  await buildPull(k);
}

export async function buildCreate(k: Kamal): Promise<void> {
  await k.exec(LOCAL, k.cmds.builder.create());
}

export async function buildRemove(k: Kamal): Promise<void> {
  await k.exec(LOCAL, k.cmds.builder.remove());
}

export async function buildDetails(k: Kamal): Promise<void> {
  k.reporter.write(`Builder: ${k.cmds.builder.name}\n`);
  const r = await k.exec(LOCAL, k.cmds.builder.info(), { allowFailure: true });
  k.reporter.write(`${r.stdout}`);
}
