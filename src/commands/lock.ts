/** The deploy lock directory on the primary host (Kamal::Commands::Lock). */
import { cmd, combine, dq, pipe, raw, type Command, type SimpleCommand } from '../shell.js';
import { Base } from './base.js';
import { iso8601 } from './tags.js';

/** Base64 of the UTF-8 text on one line (`base64 -d` reads it like Kamal's wrapped form). */
export function encode64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface LockDetailsSource {
  /** git user.name (Kamal writes "Unknown" when git is missing). */
  lockedBy?: string;
  /** Defaults to now. */
  at?: Date;
}

export class Lock extends Base {
  acquire(message: string, version: string, source: LockDetailsSource = {}): Command {
    return combine(cmd('mkdir', this.lockDir), this.writeLockDetails(message, version, source));
  }

  release(): Command {
    return combine(cmd('rm', this.lockDetailsFile), cmd('rm', '-r', this.lockDir));
  }

  status(): Command {
    return combine(this.statLockDir(), this.readLockDetails());
  }

  ensureLocksDirectory(): SimpleCommand {
    return cmd('mkdir', '-p', this.config.runDirectory);
  }

  /** The text stored (base64-encoded) in the details file. */
  lockDetails(message: string, version: string, source: LockDetailsSource = {}): string {
    const at = iso8601(source.at ?? new Date());
    return `Locked by: ${source.lockedBy ?? 'Unknown'} at ${at}\nVersion: ${version}\nMessage: ${message}`.trim();
  }

  get lockDir(): string {
    return `${this.config.runDirectory}/${['lock', this.config.service, this.config.destination].filter((x) => x !== undefined && x !== null).join('-')}`;
  }

  get lockDetailsFile(): string {
    return `${this.lockDir}/details`;
  }

  private writeLockDetails(message: string, version: string, source: LockDetailsSource): SimpleCommand {
    return cmd('echo', dq(encode64(this.lockDetails(message, version, source))), raw('>'), this.lockDetailsFile);
  }

  private readLockDetails(): Command {
    return pipe(cmd('cat', this.lockDetailsFile), cmd('base64', '-d'));
  }

  private statLockDir(): SimpleCommand {
    return cmd('stat', this.lockDir, raw('>'), '/dev/null');
  }
}
