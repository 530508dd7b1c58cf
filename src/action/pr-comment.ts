/**
 * One comment on the pull request that triggered the run, found again by a hidden marker and
 * updated in place on later runs (so a pull request keeps one diff comment per service and destination).
 */
import { readFileSync } from 'node:fs';
import type { GithubRunContext } from './deployments.js';

type Octokit = ReturnType<typeof import('@actions/github').getOctokit>;

export interface IssueComment {
  id: number;
  body?: string | null;
}

/** The REST calls a comment needs (tests pass a recorder or point the API URL at a local server). */
export interface CommentsClient {
  list(issue: number): Promise<IssueComment[]>;
  create(issue: number, body: string): Promise<number>;
  update(id: number, body: string): Promise<void>;
}

/** The pull request number of the event that started the run (pull_request, pull_request_target, or a comment on a pull request). */
export function pullRequestNumber(env: Record<string, string | undefined>): number | undefined {
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return undefined;
  let event: { pull_request?: { number?: unknown }; issue?: { number?: unknown; pull_request?: unknown }; number?: unknown };
  try {
    event = JSON.parse(readFileSync(path, 'utf8')) as typeof event;
  } catch {
    return undefined;
  }
  const n = event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined);
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The hidden line that marks our comment. */
export function commentMarker(service: string, destination: string | undefined): string {
  const key = destination ? `${service}/${destination}` : service;
  return `<!-- kamal-action diff ${key.replace(/--/g, '-')} -->`;
}

/** Creates the comment, or updates the one carrying `marker`. Returns its id and what was done. */
export async function upsertComment(
  client: CommentsClient,
  issue: number,
  marker: string,
  body: string,
): Promise<{ id: number; action: 'created' | 'updated' }> {
  const text = `${marker}\n${body}`;
  const existing = (await client.list(issue)).find((c) => (c.body ?? '').includes(marker));
  if (existing) {
    await client.update(existing.id, text);
    return { id: existing.id, action: 'updated' };
  }
  return { id: await client.create(issue, text), action: 'created' };
}

/** The comments API over Octokit (loaded on first use), at GITHUB_API_URL. */
export function githubComments(token: string, ctx: Pick<GithubRunContext, 'owner' | 'repo' | 'apiUrl'>): CommentsClient {
  let octokit: Promise<Octokit> | undefined;
  const client = () => (octokit ??= import('@actions/github').then((m) => m.getOctokit(token, { baseUrl: ctx.apiUrl })));
  const repo = { owner: ctx.owner, repo: ctx.repo };
  return {
    async list(issue) {
      const o = await client();
      return (await o.paginate(o.rest.issues.listComments, { ...repo, issue_number: issue, per_page: 100 })) as IssueComment[];
    },
    async create(issue, body) {
      const res = await (await client()).rest.issues.createComment({ ...repo, issue_number: issue, body });
      return res.data.id;
    },
    async update(id, body) {
      await (await client()).rest.issues.updateComment({ ...repo, comment_id: id, body });
    },
  };
}
