/** Errors a user can act on. The CLI and the action print their message, never a stack. */

export interface ConfigIssue {
  /** Kamal-style key path, e.g. `servers/web/hosts`; empty for the root. */
  path: string;
  message: string;
}

/** The configuration is invalid. Raised before any remote command runs. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[] | string) {
    const list = typeof issues === 'string' ? [{ path: '', message: issues }] : issues;
    super(list.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'ConfigError';
    this.issues = list;
  }
}

/** Bad command-line arguments or action inputs. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The deploy lock is held by someone else. */
export class LockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockError';
  }
}

/** A hook exited non-zero. */
export class HookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookError';
  }
}

/** A container failed to boot (health check, proxy deploy). */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

/** A local tool is missing (docker, buildx). */
export class DependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyError';
  }
}
