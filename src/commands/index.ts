export { Base, docker, git, xargsOf, dockerInteractiveArgs, DOCKER_HEALTH_STATUS_FORMAT, REDIRECT_STDERR_TO_STDOUT } from './base.js';
export { App, ACTIVE_DOCKER_STATUSES, DOCKER_HEALTH_LOG_FORMAT, type LogsOptions, type ExecOptions } from './app.js';
export { Proxy } from './proxy.js';
export { Accessory } from './accessory.js';
export { Builder } from './builder.js';
export {
  BuilderBase,
  BuilderError,
  localShellValue,
  ENDPOINT_DOCKER_HOST_INSPECT,
  type BuilderName,
  type BuilderCommandOptions,
  type PushOptions,
} from './builder/base.js';
export { LocalBuilder } from './builder/local.js';
export { RemoteBuilder } from './builder/remote.js';
export { HybridBuilder } from './builder/hybrid.js';
export { CloudBuilder } from './builder/cloud.js';
export { PackBuilder } from './builder/pack.js';
export { Registry, LOCAL_REGISTRY_CONTAINER, LOCAL_REGISTRY_IMAGE } from './registry.js';
export { Lock, encode64, type LockDetailsSource } from './lock.js';
export { Prune } from './prune.js';
export { Hook } from './hook.js';
export { Server } from './server.js';
export { Auditor } from './auditor.js';
export { Docker } from './docker.js';
export { Tags, iso8601, type TagSource, type TagValue } from './tags.js';
export { toWords, type CommandWords } from './words.js';
