/**
 * Runs `.kamal/hooks/<name>` locally with Kamal's KAMAL_* environment, and with our `kamal`
 * first on PATH: a hook's `kamal ...` is the tool running it (as with Kamal), even where
 * another `kamal` is installed, with the run's config file, destination and SSH settings.
 */
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { cmd } from '../shell.js';
import { HookError } from '../errors.js';
import { UnsafeFileError, assertRegularFile } from '../fs-safe.js';
import { join } from 'node:path';
import { LOCAL, CommandFailedError } from '../exec/types.js';
import type { Kamal } from './kamal.js';
import { pathWith } from '../exec/kamal-shim.js';

export interface HookOptions {
  /** Secret values given to pre-/post-deploy hooks (Kamal merges config.secrets). */
  secretEnv?: () => Record<string, string>;
  /** Who performs the deploy (git email, else the OS user). */
  performer?: string;
  now?: () => Date;
  /** The folder holding our `kamal`, put first on the hooks' PATH. */
  kamal?: { dir(): string };
}

/** Kamal's performer: the git user's email, else the OS user. */
export function performer(cwd: string): string {
  try {
    const email = execFileSync('git', ['config', 'user.email'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (email) return email;
  } catch {
    // no git
  }
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

export function abbreviatedVersion(version: string | undefined): string | undefined {
  if (!version) return undefined;
  return version.includes('_') ? version : version.slice(0, 7);
}

/** Kamal::Tags.from_config(...).env plus the details given. */
export function hookEnv(kamal: Kamal, details: Record<string, string | undefined>, opts: HookOptions = {}): Record<string, string> {
  const c = kamal.config;
  const tags: Record<string, string | undefined> = {
    recorded_at: (opts.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    performer: opts.performer ?? kamal.cmds.source.performer,
    destination: c.destination ?? undefined,
    version: c.knownVersion,
    service_version: [c.service, abbreviatedVersion(c.knownVersion)].filter(Boolean).join('@'),
    service: c.service,
    ...details,
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (value !== undefined && value !== null) env[`KAMAL_${key.toUpperCase()}`] = value;
  }
  return env;
}

export function installHookRunner(kamal: Kamal, opts: HookOptions = {}): void {
  kamal.hookRunner = async (hook, details, withSecrets) => {
    const env: Record<string, string> = {
      ...(withSecrets && opts.secretEnv ? opts.secretEnv() : {}),
      ...hookEnv(kamal, details, opts),
    };
    if (opts.kamal && !kamal.dryRun) env.PATH = pathWith(opts.kamal.dir(), kamal.env.PATH ?? process.env.PATH);
    kamal.say(`Running the ${hook} hook...`);
    try {
      assertRegularFile(kamal.hookFile(hook), join(kamal.config.hooksPath, hook));
    } catch (e) {
      if (e instanceof UnsafeFileError) throw new HookError(`Hook \`${hook}\` cannot be run: ${e.message}`);
      throw e;
    }
    try {
      // with -v the hook's output is shown as the command's DEBUG lines instead; -q hides it, as in Kamal
      const quiet = kamal.config.hooksOutputFor(hook) === 'quiet' || !!kamal.options.verbose || !!kamal.options.quiet;
      await kamal.exec(LOCAL, cmd(kamal.hookFile(hook)), {
        env,
        onStdout: quiet || kamal.dryRun ? undefined : (s) => kamal.reporter.write(s),
        onStderr: quiet || kamal.dryRun ? undefined : (s) => kamal.reporter.write(s),
      });
    } catch (e) {
      if (e instanceof CommandFailedError) throw new HookError(`Hook \`${hook}\` failed:\n${e.message}`);
      throw e;
    }
  };
}
