/**
 * Runs the action bundles the way a runner does (node dist/…/index.js with INPUT_* variables and
 * the GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files) and reads their log the way a
 * runner reads it: workflow commands are acted on, except between `::stop-commands::TOKEN` and
 * `::TOKEN::`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../../..');
/** The action's one bundle: action.yml runs it as the main and as the post step (the post step gets the isPost state). */
export const MAIN = join(ROOT, 'dist/action/index.js');
export const POST = MAIN;

/** The action's declared inputs with their defaults, as the runner passes them. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = inputs[name] ?? spec.default ?? '';
  }
  for (const name of Object.keys(inputs)) if (!(name in action.inputs)) throw new Error(`undeclared input ${name}`);
  return env;
}

/** A runner file-command file (`name<<delimiter` blocks, or `name=value` lines). */
export function readFileCommands(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export function runNode(script: string, env: Record<string, string>): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

export interface RunnerView {
  /** Lines the runner would act on as workflow commands (`::name ...::value`), in order. */
  commands: { name: string; props: string; value: string; line: string }[];
  /** Lines shown as text (block markers and acted-on commands left out). */
  text: string[];
  /** Whether every stop-commands block was closed. */
  closed: boolean;
  /** Commands and text lines in the order the runner meets them. */
  events: ({ kind: 'command'; name: string; value: string } | { kind: 'text'; line: string })[];
}

/** Reads a step's stdout as the runner does. */
export function runnerView(stdout: string): RunnerView {
  const view: RunnerView = { commands: [], text: [], closed: true, events: [] };
  let token: string | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    if (token !== undefined) {
      if (line === `::${token}::`) token = undefined;
      else {
        view.text.push(line);
        view.events.push({ kind: 'text', line });
      }
      continue;
    }
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) {
      if (line !== '') {
        view.text.push(line);
        view.events.push({ kind: 'text', line });
      }
      continue;
    }
    const [, name, props = '', value = ''] = m;
    if (name === 'stop-commands') {
      token = value;
      continue;
    }
    view.commands.push({ name: name!, props, value, line });
    view.events.push({ kind: 'command', name: name!, value });
  }
  view.closed = token === undefined;
  return view;
}

/** The forms a program may print a secret in: as is, base64, JSON-escaped, URL-encoded. */
export function printedForms(value: string): string[] {
  return [value, Buffer.from(value).toString('base64'), JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
}
