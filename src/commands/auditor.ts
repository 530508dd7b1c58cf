/** Audit log lines on each host (Kamal::Commands::Auditor). */
import type { Configuration } from '../model/configuration.js';
import { cmd, combine, dq, raw, type Command, type SimpleCommand } from '../shell.js';
import { Base } from './base.js';
import { Tags, type TagSource, type TagValue } from './tags.js';

/** Audit commands: Kamal runs them at debug verbosity, so they are logged only with -v. */
const records = new WeakSet<Command>();

/** Whether `command` is an audit line (from `Auditor#record`). */
export function isAuditRecord(command: Command): boolean {
  return records.has(command);
}

export class Auditor extends Base {
  readonly details: Record<string, TagValue>;
  readonly source: TagSource;

  /** `details` are extra tags on every line (e.g. `{ role: 'web' }`); `source` names the performer and time. */
  constructor(config: Configuration, details: Record<string, TagValue> = {}, source: TagSource = { performer: 'unknown' }) {
    super(config);
    this.details = details;
    this.source = source;
  }

  /** `mkdir -p .kamal && echo "<line>" >> .kamal/<service>[-<destination>]-audit.log` */
  record(line: string, details: Record<string, TagValue> = {}): Command {
    const command = combine(this.makeRunDirectory(), cmd('echo', dq(this.auditLine(line, details)), raw('>>'), this.auditLogFile()));
    records.add(command);
    return command;
  }

  reveal(): SimpleCommand {
    return cmd('tail', '-n', '50', this.auditLogFile());
  }

  auditLine(line: string, details: Record<string, TagValue> = {}): string {
    const tags = Tags.fromConfig(this.config, this.source, { ...this.details, ...details }).except('version', 'service_version', 'service');
    return `${tags.toString()} ${line}`;
  }

  auditLogFile(): string {
    const file = [this.config.service, this.config.destination, 'audit.log'].filter((x) => x !== undefined && x !== null).join('-');
    return `${this.config.runDirectory}/${file}`;
  }

  private makeRunDirectory(): SimpleCommand {
    return cmd('mkdir', '-p', this.config.runDirectory);
  }
}
