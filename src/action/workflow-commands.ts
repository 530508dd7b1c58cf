/**
 * The runner protocol the action speaks: inputs and state from the environment, workflow
 * commands on stdout (`::add-mask::`, `::error title=...::`, `::group::`), outputs and state
 * appended to GITHUB_OUTPUT / GITHUB_STATE in the heredoc form, the job summary appended to
 * GITHUB_STEP_SUMMARY. It writes exactly what @actions/core writes for these calls (a unit test
 * compares the two); it exists because loading @actions/core pulls in an HTTP client whose
 * parsing costs the action 50 to 70 ms of start-up (docs/architecture.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { EOL } from 'node:os';
import { delimiter } from 'node:path';

export interface CommandProps {
  title?: string;
}

function toValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' || v instanceof String ? String(v) : JSON.stringify(v);
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * Log text is printed between `::stop-commands::<token>` and `::<token>::`, so a line
 * from a host, a container, a hook or a build that looks like a workflow command
 * (`::error::`, `::add-mask::`, `::save-state ...`) is shown and never acted on. The
 * token is random and never printed inside a block, so no text can end the block
 * early. A block opens before the first line of text and closes before the next
 * workflow command of our own.
 */
let blockToken: string | undefined;

function openBlock(): void {
  if (blockToken !== undefined) return;
  blockToken = randomBytes(24).toString('hex');
  process.stdout.write(`::stop-commands::${blockToken}${EOL}`);
}

/** Ends the open block of log text, if any (before our own commands and at exit). */
export function endBlock(): void {
  if (blockToken === undefined) return;
  const token = blockToken;
  blockToken = undefined;
  process.stdout.write(`::${token}::${EOL}`);
}

process.on('exit', endBlock);

export function issueCommand(command: string, props: Record<string, string | undefined>, message: unknown): void {
  endBlock();
  // As @actions/core: a space after the command whenever properties were given, even if all are empty.
  const keys = Object.keys(props);
  const p = keys
    .filter((k) => props[k])
    .map((k) => `${k}=${escapeProperty(toValue(props[k]))}`)
    .join(',');
  process.stdout.write(`::${command}${keys.length ? ` ${p}` : ''}::${escapeData(toValue(message))}${EOL}`);
}

/** Annotation properties the way @actions/core passes them on (all keys, once any is given). */
function annotation(props: CommandProps): Record<string, string | undefined> {
  return Object.keys(props).length ? { title: props.title, file: undefined, line: undefined, endLine: undefined, col: undefined, endColumn: undefined } : {};
}

function fileCommand(variable: 'GITHUB_OUTPUT' | 'GITHUB_STATE', name: string, value: unknown): boolean {
  const file = process.env[variable];
  if (!file) return false;
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
  const v = toValue(value);
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter)) throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  if (v.includes(delimiter)) throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  appendFileSync(file, `${name}<<${delimiter}${EOL}${v}${EOL}${delimiter}${EOL}`, { encoding: 'utf8' });
  return true;
}

export function getInput(name: string, env: Record<string, string | undefined> = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export function getState(name: string, env: Record<string, string | undefined> = process.env): string {
  return env[`STATE_${name}`] ?? '';
}

export function setSecret(value: string): void {
  issueCommand('add-mask', {}, value);
}

export function setOutput(name: string, value: unknown): void {
  if (fileCommand('GITHUB_OUTPUT', name, value)) return;
  endBlock();
  process.stdout.write(EOL);
  issueCommand('set-output', { name }, toValue(value));
}

export function saveState(name: string, value: unknown): void {
  if (fileCommand('GITHUB_STATE', name, value)) return;
  issueCommand('save-state', { name }, toValue(value));
}

/** A line (or lines) of log text, inside a stop-commands block. */
export function info(message: string): void {
  openBlock();
  process.stdout.write(message + EOL);
}

export function error(message: string, props: CommandProps = {}): void {
  issueCommand('error', annotation(props), message);
}

export function warning(message: string, props: CommandProps = {}): void {
  issueCommand('warning', annotation(props), message);
}

export function setFailed(message: string): void {
  process.exitCode = 1;
  error(message);
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name);
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '');
}

/** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY). */
export function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.');
  appendFileSync(file, markdown, { encoding: 'utf8' });
}

/** Puts a folder first on PATH for this step and the job's later ones (GITHUB_PATH), as @actions/core's addPath. */
export function addPath(dir: string): void {
  const file = process.env.GITHUB_PATH;
  if (file) {
    if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
    appendFileSync(file, `${dir}${EOL}`, { encoding: 'utf8' });
  } else {
    issueCommand('add-path', {}, dir);
  }
  process.env.PATH = `${dir}${delimiter}${process.env.PATH}`;
}
