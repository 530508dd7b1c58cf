/** Kamal::Tags: the details recorded in audit lines and passed to hooks as KAMAL_* variables. */
import type { Configuration } from '../model/configuration.js';

export type TagValue = string | number | boolean | undefined | null;

/** ISO 8601 in UTC without fractions, like Ruby's Time#iso8601. */
export function iso8601(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TagSource {
  /** Who runs the command (git user.email, else the login name). */
  performer: string;
  /** Defaults to now. */
  recordedAt?: Date | string;
}

export class Tags {
  readonly tags: Map<string, string>;

  constructor(tags: Iterable<[string, TagValue]> | Record<string, TagValue>) {
    const entries = Symbol.iterator in Object(tags) ? [...(tags as Iterable<[string, TagValue]>)] : Object.entries(tags);
    this.tags = new Map(entries.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, String(v)]));
  }

  static defaultTags(config: Configuration, source: TagSource): [string, TagValue][] {
    const recordedAt =
      source.recordedAt === undefined ? iso8601(new Date()) : typeof source.recordedAt === 'string' ? source.recordedAt : iso8601(source.recordedAt);
    return [
      ['recorded_at', recordedAt],
      ['performer', source.performer],
      ['destination', config.destination],
      ['version', config.knownVersion],
      ['service_version', Tags.serviceVersion(config)],
      ['service', config.service],
    ];
  }

  static serviceVersion(config: Configuration): string {
    return [config.service, config.abbreviatedVersion].filter((x) => x !== undefined && x !== null).join('@');
  }

  static fromConfig(config: Configuration, source: TagSource, extra: Record<string, TagValue> = {}): Tags {
    const map = new Map<string, TagValue>(Tags.defaultTags(config, source));
    for (const [k, v] of Object.entries(extra)) map.set(k, v);
    return new Tags(map);
  }

  /** `KAMAL_RECORDED_AT`, `KAMAL_PERFORMER`, ... */
  env(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.tags) out[`KAMAL_${k.toUpperCase()}`] = v;
    return out;
  }

  /** `[value] [value] ...` */
  toString(): string {
    return [...this.tags.values()].map((v) => `[${v}]`).join(' ');
  }

  except(...keys: string[]): Tags {
    return new Tags([...this.tags].filter(([k]) => !keys.includes(k)));
  }
}
