/** The job summary: a pure function from the run report to Markdown, and a thin writer. */
import type { DeployReport, TimelineReport } from './report.js';
import { verificationMarkdown } from './verify.js';

const ICON: Record<DeployReport['result'], string> = { success: '✅', failure: '❌', cancelled: '⚠️' };
const WORD: Record<DeployReport['result'], string> = { success: 'succeeded', failure: 'failed', cancelled: 'was cancelled' };

/** A table cell: one line, pipes escaped. */
function cell(s: string | number | undefined): string {
  if (s === undefined || s === '') return '–';
  return String(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(s: string | undefined): string {
  if (s === undefined || s === '') return '–';
  const one = s.replace(/\r?\n/g, ' ');
  const ticks = Math.max(0, ...[...one.matchAll(/`+/g)].map((m) => m[0].length)) + 1;
  const fence = '`'.repeat(ticks);
  return `${fence}${ticks > 1 ? ' ' : ''}${cell(one)}${ticks > 1 ? ' ' : ''}${fence}`;
}

function fenced(text: string, lang = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\n$/, '')}\n${fence}`;
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** Mermaid task names may not contain ':' '#' or ';'. */
function mermaidText(s: string): string {
  return s.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim() || 'step';
}

/** A Mermaid gantt chart of the timeline: one section per host (global steps first). */
export function rolloutGantt(timeline: readonly TimelineReport[], finishedAt: string): string {
  const end = Date.parse(finishedAt);
  const sections = new Map<string, TimelineReport[]>();
  for (const t of timeline) {
    const key = t.host ?? 'all hosts';
    if (!sections.has(key)) sections.set(key, []);
    sections.get(key)!.push(t);
  }
  const lines = ['gantt', '  title Rollout timeline', '  dateFormat x', '  axisFormat %M:%S'];
  let n = 0;
  for (const [section, entries] of sections) {
    lines.push(`  section ${mermaidText(section)}`);
    for (const t of entries) {
      const start = Date.parse(t.startedAt);
      const stop = Math.max(start + 1, t.finishedAt ? Date.parse(t.finishedAt) : end);
      const tags = [t.ok === false ? 'crit' : t.finishedAt === undefined ? 'active' : 'done', `t${n++}`];
      const name = mermaidText(t.role && !t.step.includes(t.role) ? `${t.step} ${t.role}` : t.step);
      lines.push(`  ${name} :${tags.join(', ')}, ${start}, ${stop}`);
    }
  }
  return lines.join('\n');
}

export function summaryMarkdown(r: DeployReport): string {
  const out: string[] = [];
  const what = r.command.split(' ')[0] ?? 'run';
  out.push(
    `## ${ICON[r.result]} ${r.service ? `${r.service}: ` : ''}${what}${r.destination ? ` to ${r.destination}` : ''} ${WORD[r.result]}${r.dryRun ? ' (dry run)' : ''}`,
  );
  out.push('');
  out.push('| Version | Previous version | Image | Duration | Command |');
  out.push('| --- | --- | --- | --- | --- |');
  out.push(`| ${code(r.version)} | ${code(r.previousVersion)} | ${code(r.image)} | ${duration(r.durationSeconds)} | ${code(`kamal-action ${r.command}`)} |`);
  out.push('');
  if (r.deployment) {
    const env = r.deployment.url ? `[${cell(r.deployment.environment)}](${r.deployment.url})` : cell(r.deployment.environment);
    out.push(`Deployment ${r.deployment.id} to environment ${env}.`);
    out.push('');
  }

  if (r.boots.length > 0) {
    out.push('### Hosts');
    out.push('');
    out.push('| Host | Role | Previous version | New version | Result | Duration |');
    out.push('| --- | --- | --- | --- | --- | --- |');
    for (const b of r.boots) {
      // a dry run boots nothing: its hosts are planned, never booted
      const result = r.dryRun ? (b.ok ? '📝 planned' : '❌ failed') : b.ok ? '✅ booted' : b.finishedAt === undefined ? '⏹️ interrupted' : '❌ failed';
      out.push(`| ${cell(b.host)} | ${cell(b.role)} | ${code(b.previousVersion)} | ${code(b.version)} | ${result} | ${duration(b.durationSeconds)} |`);
    }
    out.push('');
  } else if (r.hosts.length > 0) {
    out.push(`Hosts: ${r.hosts.map((h) => code(h)).join(', ')}${r.roles.length ? ` · Roles: ${r.roles.map((x) => code(x)).join(', ')}` : ''}`);
    out.push('');
  }

  out.push(...verificationMarkdown(r.verification));

  if (r.timeline.length > 0) {
    out.push('### Rollout timeline');
    out.push('');
    out.push(fenced(rolloutGantt(r.timeline, r.finishedAt), 'mermaid'));
    out.push('');
    out.push('<details><summary>Steps</summary>');
    out.push('');
    out.push('| Step | Host | Role | Duration | Result |');
    out.push('| --- | --- | --- | --- | --- |');
    for (const t of r.timeline) {
      const result = t.ok === true ? '✅' : t.ok === false ? `❌ ${cell(t.detail)}` : '⏹️';
      out.push(`| ${cell(t.step)} | ${cell(t.host)} | ${cell(t.role)} | ${duration(t.durationSeconds)} | ${result} |`);
    }
    out.push('');
    out.push('</details>');
    out.push('');
  }

  if (r.error) {
    const e = r.error;
    out.push(r.result === 'cancelled' ? '### Cancelled' : '### Failure');
    out.push('');
    if (e.hosts && e.hosts.length > 1) out.push(`- **Hosts:** ${e.hosts.map((h) => code(h)).join(', ')}`);
    else if (e.host) out.push(`- **Host:** ${code(e.host)}${e.role ? ` (role ${code(e.role)})` : ''}`);
    if (e.step) out.push(`- **Step:** ${cell(e.step)}`);
    if (e.command) out.push(`- **Command:** ${code(e.command)}${e.exitCode !== undefined ? ` (exit ${e.exitCode})` : ''}`);
    if (e.host || e.step || e.command) out.push('');
    out.push(fenced(e.message));
    out.push('');
    if (e.logs) {
      out.push(`**Last log lines of the container${e.role ? ` (${cell(e.role)}` : ''}${e.role && e.host ? ` on ${cell(e.host)})` : e.role ? ')' : ''}:**`);
      out.push('');
      out.push(fenced(e.logs));
      out.push('');
    }
    if (r.result !== 'cancelled' && r.previousVersion && !r.verification) {
      out.push(`The previous version ${code(r.previousVersion)} keeps serving where the new one did not become healthy.`);
      out.push('');
    }
  }
  return `${out.join('\n')}\n`;
}

/** Title and text of the error annotation for a failed run. */
export function failureAnnotation(r: DeployReport): { title: string; message: string } | undefined {
  if (!r.error) return undefined;
  const what = r.command.split(' ')[0] ?? 'run';
  const hosts = r.error.hosts && r.error.hosts.length > 1 ? r.error.hosts : r.error.host ? [r.error.host] : [];
  const where = hosts.length > 0 ? ` on ${hosts.join(', ')}` : '';
  const title = r.result === 'cancelled' ? `kamal-action ${what} cancelled` : `kamal-action ${what} failed${where}`;
  let message = r.error.message;
  if (r.error.logs && !message.includes(r.error.logs.split('\n')[0] ?? '\u0000')) {
    message += `\nLast log lines:\n${r.error.logs}`;
  }
  return { title, message };
}
