/** Building and distributing the image (Kamal::Cli::Build). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DependencyError } from '../errors.js';
import { CommandFailedError, LOCAL } from '../exec/types.js';
import { cmd } from '../shell.js';
import type { Kamal } from './kamal.js';

/** Whether `docker buildx` is available locally; probed once per run. */
async function hasBuildx(k: Kamal): Promise<boolean> {
  if (k.buildx !== undefined) return k.buildx;
  // a dry run records the probe too (it answers success, so the plan shows the buildx build)
  const r = await k.exec(LOCAL, k.cmds.builder.buildxVersion(), { allowFailure: true });
  k.buildx = r.exitCode === 0;
  if (!k.buildx) k.say('docker buildx is not available here: building with `docker build`, then `docker push`', 'warn');
  return k.buildx;
}

export async function ensureDockerInstalled(k: Kamal): Promise<void> {
  const r = await k.exec(LOCAL, k.cmds.builder.dockerVersion(), { allowFailure: true });
  if (r.exitCode !== 0) {
    throw new DependencyError(/not found/.test(r.stderr) ? 'Docker is not installed locally' : `Docker is not usable locally: ${r.stderr.trim()}`);
  }
}

export async function buildPush(k: Kamal, opts: { noCache?: boolean; output?: string } = {}): Promise<void> {
  await k.preConnect();
  await ensureDockerInstalled(k);
  const b = k.cmds.builder;
  // `pack build` does not use buildx; every other builder falls back to `docker build` + `docker push`
  const buildx = b.name === 'pack' ? true : await hasBuildx(k);
  if (!buildx) {
    const problem = b.withoutBuildxProblem(k.config.localArch);
    if (problem) throw new DependencyError(`${problem[0]}: ${problem[1]}`);
    for (const note of b.withoutBuildxNotes()) k.say(note, 'warn');
  }
  if (k.config.registry.local) await k.exec(LOCAL, k.cmds.registry.setup());
  const login = k.cmds.registry.login();
  if (buildx) {
    if (b.loginToRegistryLocally && login) await k.exec(LOCAL, login);
  } else {
    // the push goes through the fallback's context (the remote engine for a remote builder) with this client's credentials
    const prepare = b.fallbackPrepare();
    if (prepare) {
      const r = await k.exec(LOCAL, prepare.check, { allowFailure: true });
      if (r.exitCode !== 0) await k.exec(LOCAL, prepare.create);
    }
    if (login) await k.exec(LOCAL, b.fallbackLogin(login));
  }
  await k.runHook('pre-build');

  const uncommitted = k.gitStatus?.();
  const git = k.gitInfo?.();
  let cwd = resolve(k.cwd);
  if (git && k.config.builder.isGitClone(true)) {
    if (uncommitted) k.say(`Building from a local git clone, so ignoring these uncommitted changes:\n ${uncommitted}`, 'warn');
    cwd = await prepareClone(k, git);
  } else if (uncommitted) k.say(`Building with uncommitted changes:\n ${uncommitted}`, 'warn');

  const env = k.builderSecretEnv?.() ?? {};
  // a remote builder pushes from its host: with a local registry, that host needs the tunnel too
  const builderHosts = b.name === 'remote' || b.name === 'hybrid' ? [remoteBuilderHost(k.config.builder.remote!)] : [];
  await k.step('build', () =>
    k.withLocalRegistryForward(builderHosts, async () => {
      if (buildx) {
        try {
          await k.exec(LOCAL, b.inspectBuilder());
        } catch (e) {
          if (!(e instanceof CommandFailedError)) throw e;
          if (/(context not found|no builder|no compatible builder|does not exist)/.test(e.stderr + e.stdout)) {
            k.say('Missing compatible builder, so creating a new one first', 'warn');
            await k.exec(LOCAL, b.remove(), { allowFailure: true });
            try {
              await buildCreate(k);
            } catch (created) {
              const text = created instanceof CommandFailedError ? created.stderr + created.stdout : '';
              if (!/(context not found|no builder|does not exist)/.test(text)) throw created;
              k.say(`Failed to create builder: ${text.trim().split('\n')[0]}`, 'error');
            }
          } else throw e;
        }
        await k.exec(LOCAL, b.push(opts.output ?? 'registry', { noCache: opts.noCache }), {
          env: { ...env, ...b.pushEnv?.() },
          cwd,
          onStderr: k.options.verbose ? (s) => k.reporter.write(s) : undefined,
        });
      } else {
        try {
          await k.exec(LOCAL, b.pushWithoutBuildx({ noCache: opts.noCache }), {
            env: { ...env, ...b.fallbackEnv() },
            cwd,
            onStderr: k.options.verbose ? (s) => k.reporter.write(s) : undefined,
          });
        } catch (e) {
          if (
            e instanceof CommandFailedError &&
            b.fallbackEnv().DOCKER_BUILDKIT &&
            /buildx component|requires BuildKit|BuildKit is enabled but/i.test(e.stderr + e.stdout)
          ) {
            const key = k.config.builder.secretNames.length > 0 ? 'builder/secrets' : 'builder/ssh';
            throw new DependencyError(
              `${key}: passing ${key === 'builder/secrets' ? 'build secrets' : 'ssh'} into the build needs BuildKit; this docker client has neither the buildx plugin nor BuildKit built in (install docker buildx)`,
            );
          }
          throw e;
        }
      }
    }),
  );
}

/** The SSH host of `builder.remote` (`ssh://user@host:port`), as the pool names hosts. */
function remoteBuilderHost(remote: string): string {
  const url = URL.canParse(remote) ? new URL(remote) : undefined;
  if (url?.protocol !== 'ssh:' || !url.hostname) {
    throw new DependencyError(`builder/remote: ${remote} is not an ssh:// address, so the local registry cannot be forwarded to it`);
  }
  return `${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.hostname}${url.port ? `:${url.port}` : ''}`;
}

/** Kamal::Cli::Build::BuildError: a clone that could not be prepared (retried once from scratch). */
class CloneError extends Error {}

/** Kamal::Cli::Build::Clone: build from a clean clone of the committed tree. Returns the build directory. */
async function prepareClone(k: Kamal, git: { root: string; revision: string }): Promise<string> {
  const b = k.config.builder;
  const dirs = { tmpdir: tmpdir(), pwd: k.cwd };
  const cloneDirectory = b.cloneDirectory(dirs);
  const buildDirectory = b.buildDirectory({ ...dirs, gitUsed: true, gitRoot: git.root });
  const failed = (e: unknown, what: string): never => {
    if (e instanceof CommandFailedError) throw new CloneError(`${what}: ${e.message}`);
    throw e;
  };
  const clone = async (): Promise<void> => {
    k.say(`Cloning repo into build directory \`${buildDirectory}\`...`);
    if (!k.dryRun) mkdirSync(cloneDirectory, { recursive: true });
    await k.exec(LOCAL, k.cmds.builder.clone({ gitRoot: git.root, cloneDirectory }));
  };
  const validate = async (): Promise<void> => {
    let status: string;
    let revision: string;
    try {
      status = await k.capture(LOCAL, k.cmds.builder.cloneStatus({ buildDirectory }));
      if (!status) revision = await k.capture(LOCAL, k.cmds.builder.cloneRevision({ buildDirectory }), { placeholder: git.revision });
    } catch (e) {
      return failed(e, 'Failed to validate clone');
    }
    if (status) throw new CloneError(`Clone in ${buildDirectory} is dirty, ${status}`);
    if (revision! !== git.revision) {
      throw new CloneError(`Clone in ${buildDirectory} is not on the correct revision, expected \`${git.revision}\` but got \`${revision!}\``);
    }
  };
  try {
    try {
      await clone();
    } catch (e) {
      if (!(e instanceof CommandFailedError && /already exists and is not an empty directory/.test(e.stderr))) failed(e, 'Failed to clone repo');
      k.say(`Resetting local clone as \`${buildDirectory}\` already exists...`);
      try {
        for (const step of k.cmds.builder.cloneResetSteps({ gitRoot: git.root, buildDirectory, revision: git.revision })) {
          await k.exec(LOCAL, step);
        }
      } catch (e2) {
        failed(e2, 'Failed to clone repo');
      }
    }
    await validate();
  } catch (e) {
    if (!(e instanceof CloneError)) throw e;
    k.say(`Error preparing clone: ${e.message}, deleting and retrying...`, 'error');
    if (!k.dryRun) rmSync(cloneDirectory, { recursive: true, force: true });
    await clone();
    await validate();
  }
  return buildDirectory;
}

export async function buildPull(k: Kamal): Promise<void> {
  await k.step('pull', async () => {
    if (!k.config.registry.local) {
      await k.on(k.appHosts, async (host) => {
        await k.exec(host, k.cmds.registry.login());
        if (!k.dryRun) (k.registryLogins ??= new Set()).add(host);
      });
    }
    await k.withLocalRegistryForward(k.hosts, async () => {
      const firstHosts = await mirrorHosts(k);
      if (firstHosts.length > 0) {
        // pull on a single host per mirror first to seed them
        k.say(`Pulling image on ${firstHosts.join(', ')} to seed the ${firstHosts.length === 1 ? 'mirror' : 'mirrors'}...`);
        await pullOnHosts(k, firstHosts);
        k.say('Pulling image on remaining hosts...');
        await pullOnHosts(
          k,
          k.appHosts.filter((h) => !firstHosts.includes(h)),
        );
      } else await pullOnHosts(k, k.appHosts);
    });
  });
}

/** Kamal's mirror_hosts: with several app hosts, the first host seen for each registry mirror. */
async function mirrorHosts(k: Kamal): Promise<string[]> {
  if (k.appHosts.length <= 1) return [];
  const byMirror = new Map<string, string>();
  await k.on(k.appHosts, async (host) => {
    try {
      const mirror = await k.capture(host, k.cmds.builder.firstMirror());
      if (mirror && !byMirror.has(mirror)) byMirror.set(mirror, host);
    } catch (e) {
      // docker answers this when the host has no mirror configured
      if (!(e instanceof CommandFailedError && /error calling index: reflect: slice index out of range/.test(`${e.stderr}${e.stdout}`))) throw e;
    }
  });
  return [...byMirror.values()];
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

/**
 * Kamal::Cli::Build#create: checks the remote builder host answers over SSH first. A failed create
 * says `Couldn't create remote builder: <stderr>` and fails the run (Kamal's rescue only matches its
 * own test's message, so a real failure raises there too).
 */
export async function buildCreate(k: Kamal): Promise<void> {
  const remote = k.config.builder.remote;
  if (remote && URL.canParse(remote) && new URL(remote).protocol === 'ssh:') {
    await k.on([remoteBuilderHost(remote)], async (host) => {
      await k.exec(host, cmd('true'));
    });
  }
  try {
    await k.exec(LOCAL, k.cmds.builder.create());
  } catch (e) {
    if (e instanceof CommandFailedError && (e.stderr.trim() || e.stdout.trim())) {
      k.say(`Couldn't create remote builder: ${(e.stderr.trim() || e.stdout.trim()).split('\n')[0]}`, 'error');
    }
    throw e;
  }
}

export async function buildRemove(k: Kamal): Promise<void> {
  await k.exec(LOCAL, k.cmds.builder.remove());
}

export async function buildDetails(k: Kamal): Promise<void> {
  k.reporter.write(`Builder: ${k.cmds.builder.name}\n`);
  const r = await k.exec(LOCAL, k.cmds.builder.info(), { allowFailure: true });
  k.reporter.write(`${r.stdout}`);
}

/**
 * Kamal::Cli::Build#dev: builds the working directory (no clone, no hooks, no login) as
 * `<image>:<version>-dirty` into the local image store, warning about the uncommitted and
 * untracked files the build context holds.
 */
export async function buildDev(k: Kamal, opts: { noCache?: boolean; output?: string } = {}): Promise<void> {
  await ensureDockerInstalled(k);
  const buildx = await k.exec(LOCAL, k.cmds.builder.buildxVersion(), { allowFailure: true });
  if (buildx.exitCode !== 0) throw new DependencyError('Docker buildx plugin is not installed locally');
  const included = new Set(await dockerIncludedFiles(k));
  const files = k.gitFiles?.() ?? { uncommitted: [], untracked: [] };
  for (const [list, title] of [
    [files.uncommitted, 'WARNING: Files with uncommitted changes will be present in the dev container:'],
    [files.untracked, 'WARNING: Untracked files will be present in the dev container:'],
  ] as const) {
    const present = [...new Set(list)].filter((f) => included.has(f)).sort();
    if (present.length > 0) k.say([title, ...present.map((f) => `  ${f}`)].join('\n'), 'warn');
  }
  await k.exec(LOCAL, k.cmds.builder.push(opts.output ?? 'docker', { tagAsDirty: true, noCache: opts.noCache }), {
    env: k.builderSecretEnv?.() ?? {},
    onStderr: k.options.verbose ? (s) => k.reporter.write(s) : undefined,
  });
}

/** Kamal::Docker.included_files: the files a `COPY .` of the build context gets, listed by a throwaway busybox image. */
async function dockerIncludedFiles(k: Kamal): Promise<string[]> {
  const tag = 'kamal-local-build-check';
  const dir = k.dryRun ? tmpdir() : mkdtempSync(join(tmpdir(), 'kamal-build-check-'));
  const dockerfile = join(dir, 'Dockerfile.kamal-build-check');
  try {
    if (!k.dryRun) writeFileSync(dockerfile, 'FROM busybox\nCOPY . app\nWORKDIR app\nCMD find . -type f | sed "s|^\\./||"\n');
    const built = await k.exec(LOCAL, cmd('docker', 'buildx', 'build', `-t=${tag}`, `-f=${dockerfile}`, '.'), { allowFailure: true });
    if (built.exitCode !== 0) throw new Error('failed to build check image');
  } finally {
    if (!k.dryRun) rmSync(dir, { recursive: true, force: true });
  }
  // Kamal tests the Process::Status object itself (always truthy), so a failed run lists no files instead of raising
  const run = await k.exec(LOCAL, cmd('docker', 'run', '--rm', tag), { allowFailure: true });
  return run.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}
