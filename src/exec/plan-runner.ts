import { AsyncLocalStorage } from 'node:async_hooks';
import { display, type Command } from '../shell.js';
import type { RunOptions, RunResult, Runner } from './types.js';

export interface PlannedStep {
  host: string;
  command: string;
  kind: 'run' | 'upload' | 'forward';
  /** The rollout step this command belongs to. */
  step?: string;
  mode?: string;
}

/**
 * A runner that connects nowhere: it records every command in order and
 * answers with empty output. Captures that need a value at run time get a
 * placeholder from the caller (see Kamal.capture).
 */
export class PlanRunner implements Runner {
  readonly steps: PlannedStep[] = [];
  /** Steps run concurrently (roles boot in parallel): each async context keeps its own step name. */
  readonly #step = new AsyncLocalStorage<{ name: string | undefined }>();

  /** The rollout step of the calling async context. */
  get currentStep(): string | undefined {
    return this.#step.getStore()?.name;
  }

  /** Runs `fn` with commands recorded under step `name`. */
  withStep<T>(name: string | undefined, fn: () => Promise<T>): Promise<T> {
    return this.#step.run({ name }, fn);
  }

  async run(host: string, command: Command, _opts?: RunOptions): Promise<RunResult> {
    const text = display(command);
    this.steps.push({ host, command: text, kind: 'run', step: this.currentStep });
    return { host, command: text, exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
  }

  async upload(host: string, _content: string | Buffer, remotePath: string, opts?: { mode?: string }): Promise<void> {
    this.steps.push({
      host,
      command: `upload ${remotePath}${opts?.mode ? ` (mode ${opts.mode})` : ''}`,
      kind: 'upload',
      step: this.currentStep,
      mode: opts?.mode,
    });
  }

  async forwardRemotePort(host: string, port: number): Promise<() => Promise<void>> {
    this.steps.push({ host, command: `forward 127.0.0.1:${port} to localhost:${port}`, kind: 'forward', step: this.currentStep });
    return async () => undefined;
  }

  async close(): Promise<void> {}
}
