export { Configuration, KAMAL_VERSION, HOOKS_OUTPUT_LEVELS, type ConfigurationOptions, type HooksOutputLevel } from './configuration.js';
export { Role } from './role.js';
export { Accessory, DEFAULT_NETWORK, type AccessoryFile, type AccessoryDirectory } from './accessory.js';
export {
  Proxy,
  ProxyBoot,
  ProxyRun,
  DEFAULT_LOG_REQUEST_HEADERS,
  PROXY_CONTAINER_NAME,
  PROXY_MINIMUM_VERSION,
  DEFAULT_HTTP_PORT,
  DEFAULT_HTTPS_PORT,
  DEFAULT_LOG_MAX_SIZE,
} from './proxy.js';
export { Builder } from './builder.js';
export { Env, EnvTag, fetchSecret } from './env.js';
export { EnvFile, escapeDockerEnvFileValue } from './env-file.js';
export { Logging } from './logging.js';
export { Volume } from './volume.js';
export { Registry } from './registry.js';
export { Ssh, type SshProxy } from './ssh.js';
export { Sshkit } from './sshkit.js';
export { Boot } from './boot.js';
export { Alias } from './alias.js';
export {
  argumentize,
  optionize,
  flattenArgs,
  deepMerge,
  isBlank,
  isPresent,
  olderVersion,
  compareVersions,
  filterSpecificItems,
  kamalEscapeShellValue,
  type RawObject,
} from './utils.js';
