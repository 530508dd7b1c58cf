/** Test doubles for the action: a recording ActionCore and a run context shaped like the engine's. */
import type { Kamal } from '../../../src/engine/kamal.js';
import type { BootRecord } from '../../../src/engine/app.js';
import type { TimelineEntry } from '../../../src/engine/reporter.js';
import { SecretRegistry } from '../../../src/secret.js';
import type { ActionCore, AnnotationProps } from '../../../src/action/core.js';
import { SignedState } from '../../../src/action/state.js';

export interface CoreEvent {
  kind: string;
  name?: string;
  value?: string;
  props?: AnnotationProps;
}

/** A saved state value without its authentication tag (`v1.<hmac>.value` → `value`). */
export function untagged(value: string): string {
  return value.replace(/^v1\.[0-9a-f]{64}\./, '');
}

export class RecordingCore implements ActionCore {
  readonly events: CoreEvent[] = [];
  readonly outputs: Record<string, string> = {};
  /** State as saved (tagged), which getState returns. */
  readonly rawState: Record<string, string> = {};
  /** State values without their tags, for assertions. */
  readonly state: Record<string, string> = {};
  summary = '';
  failed = false;
  constructor(
    readonly inputs: Record<string, string> = {},
    initialState: Record<string, string> = {},
  ) {
    for (const [k, v] of Object.entries(initialState)) this.saveState(k, v, false);
  }
  getInput(name: string): string {
    return this.inputs[name] ?? '';
  }
  getState(name: string): string {
    return this.rawState[name] ?? '';
  }
  setSecret(value: string): void {
    this.events.push({ kind: 'mask', value });
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
    this.events.push({ kind: 'output', name, value });
  }
  saveState(name: string, value: string, record = true): void {
    this.rawState[name] = value;
    this.state[name] = untagged(value);
    if (record) this.events.push({ kind: 'state', name, value: untagged(value) });
  }
  /** Saves `values` as this run's main step would (signed with a new key under `base`). */
  signState(values: Record<string, string>, base: string): SignedState {
    const signed = SignedState.create({ getState: (n) => this.getState(n), saveState: (n, v) => this.saveState(n, v, false) }, base);
    for (const [k, v] of Object.entries(values)) signed.save(k, v);
    return signed;
  }
  setFailed(message: string): void {
    this.failed = true;
    this.events.push({ kind: 'failed', value: message });
  }
  markFailed(): void {
    this.failed = true;
  }
  error(message: string, props?: AnnotationProps): void {
    this.events.push({ kind: 'error', value: message, props });
  }
  warning(message: string, props?: AnnotationProps): void {
    this.events.push({ kind: 'warning', value: message, props });
  }
  info(message: string): void {
    this.events.push({ kind: 'info', value: message });
  }
  startGroup(title: string): void {
    this.events.push({ kind: 'group', value: title });
  }
  endGroup(): void {
    this.events.push({ kind: 'endgroup' });
  }
  async writeSummary(markdown: string): Promise<void> {
    this.summary += markdown;
  }
  of(kind: string): CoreEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
  /** Everything a person could read: log lines, annotations, outputs, state, summary. */
  visible(): string {
    return [...this.events.filter((e) => e.kind !== 'mask').map((e) => `${e.name ?? ''} ${e.value ?? ''} ${e.props?.title ?? ''}`), this.summary].join('\n');
  }
}

export interface FakeKamalOptions {
  version?: string;
  service?: string;
  destination?: string;
  image?: string;
  hosts?: string[];
  roles?: string[];
  boots?: BootRecord[];
  timeline?: TimelineEntry[];
  dryRun?: boolean;
  registryServer?: string;
}

/** Just the parts of the run context the action reads. */
export function fakeKamal(o: FakeKamalOptions = {}): Kamal & { boots: BootRecord[] } {
  const hosts = o.hosts ?? ['10.0.0.1', '10.0.0.2'];
  const roles = o.roles ?? ['web'];
  const version = o.version ?? 'v2';
  const prefix = (role: string) => [o.service ?? 'app', role, o.destination].filter(Boolean).join('-');
  const k = {
    secrets: new SecretRegistry(),
    timeline: o.timeline ?? [],
    boots: o.boots ?? [],
    dryRun: o.dryRun ?? false,
    holdingLock: false,
    onLockChange: undefined as ((held: boolean) => void) | undefined,
    hosts,
    roles: roles.map((name) => ({ name })),
    primaryHost: hosts[0],
    primaryRole: { name: roles[0] },
    config: {
      version,
      service: o.service ?? 'app',
      destination: o.destination,
      absoluteImage: `${o.image ?? 'registry.example.com/app'}:${version}`,
      registry: { server: o.registryServer ?? 'registry.example.com' },
      primaryHost: hosts[0],
      primaryRole: { name: roles[0], containerPrefix: prefix(roles[0]!) },
      roles: roles.map((name) => ({ name, containerPrefix: prefix(name) })),
    },
  };
  return k as unknown as Kamal & { boots: BootRecord[] };
}
