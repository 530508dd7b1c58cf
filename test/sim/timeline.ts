/**
 * Reading a deploy's timeline off the simulated hosts' records: when each host's boot ran (from
 * the audit line `Booted app version` to the end of `kamal-proxy deploy` or of the old container's
 * stop), and the groups Kamal's boot.limit and boot.wait make of them.
 */

export interface TimedCommand {
  host: string;
  command: string;
  start?: number;
  end?: number;
}

export interface BootSpan {
  host: string;
  start: number;
  end: number;
}

/** Per host, in the order given: when its boot of the app's web role started and ended (ms). */
export function bootSpans(records: readonly TimedCommand[], hosts: readonly string[], service = 'app', role = 'web'): BootSpan[] {
  return hosts.map((host) => {
    const mine = records.filter((r) => r.host === host);
    const first = mine.find(
      (r) => /Booted app version/.test(r.command) || r.command.startsWith(`docker run --detach --restart unless-stopped --name ${service}-${role}-`),
    );
    const last = [...mine]
      .reverse()
      .find((r) => r.command.startsWith(`docker exec kamal-proxy kamal-proxy deploy ${service}-${role} `) || / \| xargs docker stop/.test(r.command));
    if (!first || !last || first.start === undefined || last.end === undefined) throw new Error(`no boot of ${service}-${role} on ${host}`);
    return { host, start: first.start, end: last.end };
  });
}

/**
 * Checks boot.limit and boot.wait as Kamal applies them: hosts boot in groups of `limit`, in host
 * order; a group starts only after every host of the group before it finished, and `waitMs` later.
 * Returns the violations (none when the timeline keeps to the rule), and the gaps between groups.
 */
export function checkBootGroups(spans: readonly BootSpan[], limit: number, waitMs: number, toleranceMs = 50): { violations: string[]; gaps: number[] } {
  const groups: BootSpan[][] = [];
  for (let i = 0; i < spans.length; i += limit) groups.push(spans.slice(i, i + limit));
  const violations: string[] = [];
  const gaps: number[] = [];
  for (let g = 1; g < groups.length; g++) {
    const prevEnd = Math.max(...groups[g - 1]!.map((s) => s.end));
    const start = Math.min(...groups[g]!.map((s) => s.start));
    gaps.push(start - prevEnd);
    if (start < prevEnd + waitMs - toleranceMs) {
      violations.push(
        `group ${g + 1} (${groups[g]!.map((s) => s.host).join(', ')}) started ${Math.round(start - prevEnd)} ms after group ${g} ended, less than boot.wait ${waitMs} ms`,
      );
    }
  }
  return { violations, gaps };
}

/** Per host: from the start of the first command matching `first` to the end of the next one matching `last`. */
export function phaseSpans(records: readonly TimedCommand[], hosts: readonly string[], first: RegExp, last: RegExp): BootSpan[] {
  return hosts.map((host) => {
    const mine = records.filter((r) => r.host === host);
    const i = mine.findIndex((r) => first.test(r.command));
    const end = mine.slice(Math.max(0, i)).find((r) => last.test(r.command));
    if (i < 0 || !end || mine[i]!.start === undefined || end.end === undefined) throw new Error(`no ${first} .. ${last} on ${host}`);
    return { host, start: mine[i]!.start!, end: end.end };
  });
}

/** The most spans open at the same moment. */
export function peakOverlap(spans: readonly BootSpan[]): number {
  const events = spans.flatMap((s) => [
    [s.start, 1],
    [s.end, -1],
  ]) as [number, number][];
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (cur += d));
  return peak;
}
