/**
 * `command: diff` in the action: the report as the job summary, the `changed` and `report`
 * outputs, and (comment-on-pr) one comment on the pull request that triggered the run.
 */
import type { Kamal } from '../engine/kamal.js';
import type { DiffReport } from '../engine/diff.js';
import { accessoryHeadline, changeSections, diffTitle, roleHeadline } from '../engine/diff-format.js';
import type { ActionCore } from './core.js';
import { Outputs, State } from './constants.js';
import { githubRunContext } from './deployments.js';
import { commentMarker, githubComments, pullRequestNumber, upsertComment, type CommentsClient } from './pr-comment.js';
import { redactDeep } from './report.js';

export interface DiffInputs {
  /** Post (or update) one comment with the diff on the pull request that triggered the run. */
  'comment-on-pr': boolean;
}

type Fail = (input: string, message: string) => Error;

export function readDiffInputs(read: (name: string) => string, command: string, fail: Fail): DiffInputs {
  const v = read('comment-on-pr').trim();
  let comment = false;
  if (['true', 'True', 'TRUE'].includes(v)) comment = true;
  else if (!['', 'false', 'False', 'FALSE'].includes(v)) throw fail('comment-on-pr', 'must be true or false');
  if (comment && command !== 'diff') throw fail('comment-on-pr', `only applies to the diff command, not '${command}'`);
  return { 'comment-on-pr': comment };
}

/** A fenced block that no backtick run inside `text` can close. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
}

function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function summaryOf(sections: [string, string[]][]): string {
  return sections.map(([name, items]) => (name === 'image' ? 'image' : `${name} ${items.length}`)).join(', ');
}

/** The report as Markdown: a table per role and host, then each change in a diff block. */
export function diffMarkdown(report: DiffReport, opts: { runUrl?: string } = {}): string {
  const out: string[] = [`### kamal-action diff: ${cell(diffTitle(report))}`, ''];
  out.push(report.changed ? 'A deploy would change what is listed below.' : '**Nothing would change.**', '');
  if (report.roles.length > 0) {
    out.push('| Role | Host | Running | Would deploy | Changes |', '| --- | --- | --- | --- | --- |');
    for (const r of report.roles) {
      const changes =
        r.status === 'new'
          ? 'new: first container'
          : r.status === 'unreachable'
            ? `could not be read`
            : summaryOf(changeSections(r)) || (r.status === 'changed' ? 'version' : 'none');
      out.push(`| ${cell(r.role)} | ${cell(r.host)} | ${cell(r.runningVersion ?? '—')} | ${cell(r.version)} | ${cell(changes)} |`);
    }
    out.push('');
  }
  if (report.hostsAdded.length > 0) out.push(`**Hosts added** (no container of ${cell(report.service)} yet): ${report.hostsAdded.map(cell).join(', ')}`, '');
  if (report.leftOut.length > 0) {
    out.push('**Left out** (running, but the role is no longer configured on the host; a deploy leaves them running):', '');
    for (const l of report.leftOut) out.push(`- ${cell(l.role)} on ${cell(l.host)}${l.version ? ` (${cell(l.version)})` : ''}`);
    out.push('');
  }
  const blocks: string[] = [];
  for (const r of report.roles) {
    const sections = changeSections(r);
    if (r.status === 'unreachable' || sections.length > 0) {
      blocks.push(roleHeadline(r), ...sections.flatMap(([name, items]) => [`  ${name}:`, ...items.map((i) => `    ${i}`)]));
    }
  }
  for (const a of report.accessories) {
    if (a.status === 'unchanged') continue;
    blocks.push(accessoryHeadline(a), ...changeSections(a).flatMap(([name, items]) => [`  ${name}:`, ...items.map((i) => `    ${i}`)]));
  }
  if (blocks.length > 0) {
    // diff highlighting keys on the first character: `+` and `-` lines stay where they are
    const text = blocks.map((l) => l.replace(/^(\s+)([+\-~]) /, (_m, sp: string, sign: string) => `${sign === '~' ? '!' : sign}${sp.slice(1)}`)).join('\n');
    out.push(fence(text, 'diff'), '');
  }
  out.push('Secret values are never shown: a changed secret is listed by name.');
  if (opts.runUrl) out.push('', `[Workflow run](${opts.runUrl})`);
  return `${out.join('\n')}\n`;
}

export interface FinishDiff {
  core: ActionCore;
  env: Record<string, string | undefined>;
  inputs: DiffInputs & { 'github-token': string | undefined };
  kamal: Kamal | undefined;
  error: unknown;
  errorText: string | undefined;
  redact: (s: string) => string;
  state: { save(key: State, value: string): void };
  exitCode: number;
  /** Defaults to Octokit at GITHUB_API_URL. */
  comments?: (token: string) => CommentsClient | undefined;
}

/** Outputs, summary and the pull request comment of a diff run; the step fails only when the diff could not be made. */
export async function finishDiff(d: FinishDiff): Promise<{ exitCode: number }> {
  const { core } = d;
  const report = d.kamal?.diffReport ? redactDeep(d.kamal.diffReport, d.redact) : undefined;
  const ctx = githubRunContext(d.env);
  core.setOutput(Outputs.Changed, report ? String(report.changed) : '');
  core.setOutput(Outputs.Version, report ? d.redact(report.version) : '');
  core.setOutput(Outputs.Report, report ? d.redact(JSON.stringify(report)) : '');
  const markdown = report ? d.redact(diffMarkdown(report, { runUrl: ctx?.logUrl })) : undefined;
  try {
    await core.writeSummary(markdown ?? `### kamal-action diff\n\nThe diff could not be made:\n\n${fence(d.errorText ?? 'failed')}\n`);
  } catch (e) {
    core.warning(`Could not write the job summary: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (report && markdown && d.inputs['comment-on-pr']) await comment(d, report, markdown);
  d.state.save(State.MainDone, 'true');
  if (d.error !== undefined) {
    core.error(d.errorText ?? 'failed');
    core.markFailed();
    return { exitCode: d.exitCode || 1 };
  }
  return { exitCode: 0 };
}

async function comment(d: FinishDiff, report: DiffReport, markdown: string): Promise<void> {
  const { core } = d;
  const token = d.inputs['github-token'];
  const ctx = githubRunContext(d.env);
  const pr = pullRequestNumber(d.env);
  if (!token || !ctx) {
    core.warning('comment-on-pr needs the github-token input (with permissions: pull-requests: write)');
    return;
  }
  if (pr === undefined) {
    core.info('comment-on-pr: this run was not started by a pull request, no comment posted');
    return;
  }
  try {
    const client = d.comments ? d.comments(token) : githubComments(token, ctx);
    if (!client) return;
    const done = await upsertComment(client, pr, commentMarker(report.service, report.destination), markdown);
    core.info(`Diff comment ${done.action} on pull request #${pr}`);
  } catch (e) {
    core.warning(`Could not comment on pull request #${pr} (needs permissions: pull-requests: write): ${d.redact(e instanceof Error ? e.message : String(e))}`);
  }
}
