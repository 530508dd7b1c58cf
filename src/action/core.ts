/** The slice of the runner toolkit the action uses, as an interface so tests can record it. */
import * as core from './workflow-commands.js';

export interface AnnotationProps {
  title?: string;
}

export interface ActionCore {
  getInput(name: string): string;
  getState(name: string): string;
  setSecret(value: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  /** Marks the step failed with `message` (an error annotation). */
  setFailed(message: string): void;
  /** Marks the step failed without an extra annotation (one was already made). */
  markFailed(): void;
  error(message: string, props?: AnnotationProps): void;
  warning(message: string, props?: AnnotationProps): void;
  info(message: string): void;
  startGroup(title: string): void;
  endGroup(): void;
  writeSummary(markdown: string): Promise<void>;
  /** Puts a folder first on PATH for the job's later steps (the runner's PATH file). */
  addPath?(dir: string): void;
}

/** The runner toolkit; inputs and state are read from `env` (a copy of the environment taken at start-up). */
export function actionsCore(env: Record<string, string | undefined> = process.env): ActionCore {
  return {
    getInput: (name) => core.getInput(name, env),
    getState: (name) => core.getState(name, env),
    setSecret: (value) => core.setSecret(value),
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    setFailed: (message) => core.setFailed(message),
    markFailed: () => {
      process.exitCode = 1;
    },
    error: (message, props) => core.error(message, props),
    warning: (message, props) => core.warning(message, props),
    info: (message) => core.info(message),
    startGroup: (title) => core.startGroup(title),
    endGroup: () => core.endGroup(),
    writeSummary: async (markdown) => {
      core.appendSummary(markdown);
    },
    addPath: (dir) => core.addPath(dir),
  };
}
