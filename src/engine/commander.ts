/** Command builders bound to one configuration (Kamal's KAMAL.app(...), KAMAL.proxy(host), ...). */
import type { Configuration, Role } from '../model/index.js';
import { Accessory, App, Auditor, Builder, Docker, Hook, Lock, Proxy, Prune, Registry, Server } from '../commands/index.js';
import type { TagValue } from '../commands/index.js';

export interface CommanderSource {
  /** git user.email, else the login name: recorded in audit lines. */
  performer: string;
  /** git user.name: recorded in lock details. */
  lockedBy: string;
}

export class Commander {
  #builder: Builder | undefined;
  #registry: Registry | undefined;
  #prune: Prune | undefined;
  #hook: Hook | undefined;
  #server: Server | undefined;
  #docker: Docker | undefined;
  #lock: Lock | undefined;

  constructor(
    private readonly config: Configuration,
    readonly source: CommanderSource = { performer: 'unknown', lockedBy: 'Unknown' },
  ) {}

  app(role?: Role, host?: string): App {
    return new App(this.config, { role, host });
  }
  proxy(host: string): Proxy {
    return new Proxy(this.config, { host });
  }
  accessory(name: string): Accessory {
    return new Accessory(this.config, { name });
  }
  auditor(details: { role?: Role } & Record<string, TagValue | Role> = {}): Auditor {
    const d: Record<string, TagValue> = {};
    for (const [k, v] of Object.entries(details)) d[k] = typeof v === 'object' && v !== null ? (v as Role).name : (v as TagValue);
    return new Auditor(this.config, d, { performer: this.source.performer });
  }
  get builder(): Builder {
    return (this.#builder ??= new Builder(this.config));
  }
  get registry(): Registry {
    return (this.#registry ??= new Registry(this.config));
  }
  get prune(): Prune {
    return (this.#prune ??= new Prune(this.config));
  }
  get hook(): Hook {
    return (this.#hook ??= new Hook(this.config));
  }
  get server(): Server {
    return (this.#server ??= new Server(this.config));
  }
  get docker(): Docker {
    return (this.#docker ??= new Docker(this.config));
  }
  get lock(): Lock {
    return (this.#lock ??= new Lock(this.config));
  }
}
