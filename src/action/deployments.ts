/** GitHub Deployments: one deployment per rollout, with in_progress → success | failure statuses. */
// Octokit is loaded on first use: most runs (no environment input) never need it, and it is
// the largest part of the bundle to parse at start-up.
type Octokit = ReturnType<typeof import('@actions/github').getOctokit>;

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface GithubRunContext {
  owner: string;
  repo: string;
  /** The commit deployed (GITHUB_SHA). */
  ref: string;
  /** The workflow run's page. */
  logUrl: string | undefined;
  apiUrl: string;
}

/** Reads the run's repository, commit and URLs from the runner's environment; undefined outside a workflow run. */
export function githubRunContext(env: Record<string, string | undefined>): GithubRunContext | undefined {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const ref = env.GITHUB_SHA;
  if (!owner || !repo || !ref) return undefined;
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/$/, '');
  const logUrl = env.GITHUB_RUN_ID
    ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`
    : undefined;
  return { owner, repo, ref, logUrl, apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, '') };
}

export interface CreateDeployment {
  environment: string;
  /** `deploy` or `deploy:rollback`. */
  task: string;
  payload: { version: string | null; command: string; previous: string | null };
  description?: string;
}

export interface StatusUpdate {
  environmentUrl?: string;
  description?: string;
}

/** The REST calls, over an Octokit pointed at GITHUB_API_URL. */
export class Deployments {
  readonly #token: string;
  readonly #ctx: GithubRunContext;
  #octokit: Promise<Octokit> | undefined;

  constructor(token: string, ctx: GithubRunContext) {
    this.#ctx = ctx;
    this.#token = token;
  }

  #client(): Promise<Octokit> {
    this.#octokit ??= import('@actions/github').then((m) => m.getOctokit(this.#token, { baseUrl: this.#ctx.apiUrl }));
    return this.#octokit;
  }

  async create(d: CreateDeployment): Promise<number> {
    const res = await (await this.#client()).rest.repos.createDeployment({
      owner: this.#ctx.owner,
      repo: this.#ctx.repo,
      ref: this.#ctx.ref,
      task: d.task,
      environment: d.environment,
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      payload: d.payload,
      description: clip(d.description),
    });
    const data = res.data as { id?: number; message?: string };
    if (typeof data.id !== 'number') throw new Error(`GitHub did not create the deployment: ${data.message ?? `HTTP ${res.status}`}`);
    return data.id;
  }

  async setStatus(id: number, state: DeploymentState, u: StatusUpdate = {}): Promise<void> {
    await (await this.#client()).rest.repos.createDeploymentStatus({
      owner: this.#ctx.owner,
      repo: this.#ctx.repo,
      deployment_id: id,
      state,
      log_url: this.#ctx.logUrl,
      environment_url: u.environmentUrl,
      description: clip(u.description),
    });
  }
}

/** GitHub limits descriptions to 140 characters. */
function clip(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length <= 140 ? s : `${s.slice(0, 139)}…`;
}
