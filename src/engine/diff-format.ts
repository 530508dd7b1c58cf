/** The `diff` report as text for a terminal and as Markdown for a job summary or a pull request comment. */
import type { AccessoryDiff, ContainerDiff, DiffReport, KeyChange, RoleHostDiff } from './diff.js';

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

/** One change as a line: `+ KEY=value`, `~ KEY: old → new`, `~ SECRET (secret, changed)`, `- KEY`. */
export function changeLine(c: KeyChange, sep = '='): string {
  const sign = SIGN[c.change];
  if (c.secret) return `${sign} ${c.key} (secret, ${c.change})`;
  if (c.change === 'added') return `${sign} ${c.key}${c.to !== undefined ? `${sep}${c.to}` : ''}`;
  if (c.change === 'removed') return `${sign} ${c.key}${c.from !== undefined ? ` (was ${c.from})` : ''}`;
  if (c.from !== undefined) return `${sign} ${c.key}: ${c.from} → ${c.to ?? ''}`;
  return `${sign} ${c.key}${c.to !== undefined ? `${sep}${c.to}` : ''} (changed)`;
}

/** The sections of a container's changes, each with its lines. */
export function changeSections(d: ContainerDiff & { proxy?: KeyChange[] }): [string, string[]][] {
  const sections: [string, string[]][] = [];
  if (d.image.running !== undefined && d.image.running !== d.image.desired) sections.push(['image', [`~ ${d.image.running} → ${d.image.desired}`]]);
  if (d.env.length > 0) sections.push(['env', d.env.map((c) => changeLine(c))]);
  if (d.labels.length > 0) sections.push(['labels', d.labels.map((c) => changeLine(c))]);
  if (d.options.length > 0) sections.push(['options', d.options.map((c) => changeLine(c, ' '))]);
  if (d.volumes.length > 0) sections.push(['volumes', d.volumes.map((v) => `${v.change === 'added' ? '+' : '-'} ${v.volume}`)]);
  if (d.proxy && d.proxy.length > 0) sections.push(['proxy', d.proxy.map((c) => changeLine(c, ' '))]);
  return sections;
}

export function roleHeadline(r: RoleHostDiff): string {
  const where = `${r.role} on ${r.host}`;
  switch (r.status) {
    case 'new':
      return `${where}: new, ${r.version} would be its first container`;
    case 'unreachable':
      return `${where}: could not be read (${r.error ?? 'unknown error'})`;
    case 'unchanged':
      return `${where}: unchanged (${r.runningVersion ?? r.version})`;
    default:
      return r.runningVersion === r.version
        ? `${where}: ${r.version}, redeployed with changes`
        : `${where}: ${r.runningVersion ?? 'nothing running'} → ${r.version}`;
  }
}

export function accessoryHeadline(a: AccessoryDiff): string {
  const where = `accessory ${a.accessory} on ${a.host}`;
  switch (a.status) {
    case 'new':
      return `${where}: not running, \`accessory boot\` would start it`;
    case 'unreachable':
      return `${where}: could not be read (${a.error ?? 'unknown error'})`;
    case 'unchanged':
      return `${where}: unchanged`;
    default:
      return `${where}: configuration changed (applied by \`accessory reboot ${a.accessory}\`)`;
  }
}

export function diffTitle(report: DiffReport): string {
  const dest = report.destination ? ` (destination ${report.destination})` : '';
  return `${report.service}${dest}: deploy of ${report.version} (${report.image})`;
}

/** Plain text for a terminal. */
export function diffText(report: DiffReport): string {
  const lines: string[] = [diffTitle(report), ''];
  for (const r of report.roles) {
    lines.push(roleHeadline(r));
    for (const [name, items] of changeSections(r)) {
      lines.push(`  ${name}:`);
      for (const i of items) lines.push(`    ${i}`);
    }
  }
  if (report.hostsAdded.length > 0) lines.push(`hosts added (no container of ${report.service} yet): ${report.hostsAdded.join(', ')}`);
  for (const l of report.leftOut) {
    lines.push(`left out: ${l.role} on ${l.host} runs ${l.version ?? 'a container'} but the role is no longer configured there (a deploy leaves it running)`);
  }
  for (const a of report.accessories) {
    lines.push(accessoryHeadline(a));
    for (const [name, items] of changeSections(a)) {
      lines.push(`  ${name}:`);
      for (const i of items) lines.push(`    ${i}`);
    }
  }
  lines.push('', report.changed ? 'A deploy would change what is listed above.' : 'Nothing would change.');
  return `${lines.join('\n')}\n`;
}
