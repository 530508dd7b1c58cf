/**
 * The structure of a Kamal 2.12 config/deploy.yml as zod schemas.
 *
 * Kamal checks each key against the example in its annotated documentation
 * (lib/kamal/configuration/docs/*.yml): a key whose example is a string
 * accepts any scalar (strings, numbers, booleans, symbols), an integer example
 * accepts integers only, and so on. The schemas here follow those examples and
 * carry Kamal's messages ("should be a string", "unknown key: foo"); the
 * cross-field rules Kamal's validators add on top live in validate.ts.
 *
 * Output normalisation: scalar values under string-typed keys come out as
 * strings, converted the way Ruby's `to_s` converts them (3000 → "3000",
 * true → "true"). Everything else is returned as given.
 */
import { z } from 'zod';
import { isPlainObject, rubyToS } from './ruby.js';

// ---------------------------------------------------------------------------
// Messages

export const MSG = {
  string: 'should be a string',
  integer: 'should be an integer',
  boolean: 'should be a boolean',
  hash: 'should be a hash',
  array: 'should be an array',
} as const;

/** "unknown key: a" / "unknown keys: a, b" */
export function unknownKeysMessage(keys: readonly string[]): string {
  return `unknown ${keys.length === 1 ? 'key' : 'keys'}: ${keys.join(', ')}`;
}

const hashError = (iss: { code?: string; keys?: string[] }) => (iss.code === 'unrecognized_keys' && iss.keys ? unknownKeysMessage(iss.keys) : MSG.hash);

// ---------------------------------------------------------------------------
// JSON Schema for the nodes zod cannot describe itself

/** JSON Schema fragments for custom nodes, used by the schema generator. */
export const customJsonSchemas = new Map<z.ZodType, Record<string, unknown>>();

function custom<T>(check: (v: unknown) => boolean, message: string, json: Record<string, unknown>): z.ZodType<T> {
  const schema = z.custom<T>(check, { error: message });
  customJsonSchemas.set(schema, json);
  return schema;
}

// ---------------------------------------------------------------------------
// Building blocks

/** Kamal's "string": any scalar except nil; returned as its Ruby to_s. */
function stringish(message: string = MSG.string) {
  return z.union([z.string(), z.number(), z.boolean()], { error: message }).transform((v) => rubyToS(v));
}

export function isStringish(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

const str = stringish();
const int = z.int({ error: MSG.integer });
const bool = z.boolean({ error: MSG.boolean });
/** A hash whose values Kamal does not check (docker options, build args). */
const anyHash = z.record(z.string(), z.unknown(), { error: MSG.hash });
const hashOf = <T extends z.ZodType>(v: T) => z.record(z.string(), v, { error: MSG.hash });
const arrayOf = <T extends z.ZodType>(v: T) => z.array(v, { error: MSG.array });
const strict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: hashError });

const JSON_SCALAR = { type: ['string', 'number', 'boolean'] };

// ---------------------------------------------------------------------------
// Hosts (servers, role hosts, accessory hosts, proxy hosts)

/** `- 1.1.1.1` or `- 1.1.1.2: tag` or `- 1.1.1.3: [tag1, tag2]` */
export const hostEntrySchema = z.union([str, hashOf(z.union([str, arrayOf(str)], { error: 'should be a string or an array' }))], {
  error: 'should be a string or a hash',
});
export const hostListSchema = arrayOf(hostEntrySchema);

// ---------------------------------------------------------------------------
// Sections

export const loggingSchema = strict({
  driver: str.optional().describe('Docker logging driver (--log-driver)'),
  options: anyHash.optional().describe('Options for the logging driver (--log-opt)'),
});

export const proxySslCertificateSchema = z.looseObject(
  {
    certificate_pem: str.optional().describe('Name of the secret holding the certificate PEM'),
    private_key_pem: str.optional().describe('Name of the secret holding the private key PEM'),
  },
  { error: MSG.hash },
);

export const proxyRunSchema = strict({
  http_port: int.optional(),
  https_port: int.optional(),
  metrics_port: int.optional(),
  debug: bool.optional(),
  log_max_size: str.optional(),
  publish: bool.optional(),
  bind_ips: arrayOf(str).optional(),
  registry: str.optional(),
  repository: str.optional(),
  version: str.optional(),
  options: anyHash.optional(),
}).describe('Options used when booting the kamal-proxy container');

export const proxySchema = strict({
  host: str.optional().describe('Host (or comma-separated hosts) routed to the app'),
  hosts: hostListSchema.optional().describe('Hosts routed to the app'),
  app_port: int.optional().describe('Port the app listens on in the container (default 80)'),
  ssl: z
    .union([bool, proxySslCertificateSchema], { error: 'should be a boolean or a hash' })
    .optional()
    .describe("true for Let's Encrypt, or the secret names of a custom certificate"),
  ssl_redirect: bool.optional(),
  forward_headers: bool.optional(),
  response_timeout: int.optional(),
  path_prefix: str.optional(),
  path_prefixes: arrayOf(str).optional(),
  strip_path_prefix: bool.optional(),
  healthcheck: strict({ interval: int.optional(), path: str.optional(), timeout: int.optional() }).optional(),
  buffering: strict({
    requests: bool.optional(),
    responses: bool.optional(),
    max_request_body: int.optional(),
    max_response_body: int.optional(),
    memory: int.optional(),
  }).optional(),
  logging: strict({ request_headers: arrayOf(str).optional(), response_headers: arrayOf(str).optional() }).optional(),
  run: proxyRunSchema.optional(),
});

/** `username`/`password`: a string, or a one-element list naming a secret. Checked in validate.ts. */
const credential = custom<string | [string]>(() => true, 'should be a string or an array with one string (for secret lookup)', {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 }],
});

export const registrySchema = strict({
  server: str.optional().describe('Registry host; `localhost:<port>` runs a local registry'),
  username: credential.optional(),
  password: credential.optional(),
});

const envClear = hashOf(str);
const envSecret = arrayOf(str);

/**
 * A tag's env: either `{NAME: value}` or `{clear: {...}, secret: [...]}`.
 * Which form applies (and what is allowed) is decided in validate.ts.
 */
export const tagEnvSchema = z.object({ clear: envClear.optional(), secret: envSecret.optional() }, { error: MSG.hash }).catchall(str);

/**
 * `env:` is either a hash of clear variables, or a hash with any of `clear`,
 * `secret` and (at the root only) `tags`.
 */
export const envSchema = z
  .object(
    {
      clear: envClear.optional().describe('Variables passed to the container as they are'),
      secret: envSecret.optional().describe('Secret names (NAME or NAME:SECRET) read from .kamal/secrets'),
      tags: hashOf(tagEnvSchema).optional().describe('Extra env for hosts carrying a tag (root env only)'),
    },
    { error: MSG.hash },
  )
  .catchall(str);

export const roleObjectSchema = strict({
  hosts: hostListSchema.optional(),
  cmd: str.optional(),
  stop_timeout: int.optional(),
  options: anyHash.optional(),
  logging: loggingSchema.optional(),
  proxy: z.union([bool, proxySchema], { error: MSG.hash }).optional(),
  labels: hashOf(str).optional(),
  env: envSchema.optional(),
  asset_path: str.optional(),
});

export const roleSchema = z.union([hostListSchema, roleObjectSchema], { error: 'should be an array or a hash' });

export const serversSchema = z.union([hostListSchema, hashOf(roleSchema)], { error: 'should be an array or a hash' });

export const accessoryPathSchema = z.union(
  [
    str,
    z.looseObject({
      local: str.optional(),
      remote: str.optional(),
      mode: str.optional(),
      owner: str.optional(),
      options: str.optional(),
    }),
  ],
  { error: 'should be a string or a hash' },
);

export const accessorySchema = strict({
  service: str.optional(),
  image: str.optional(),
  registry: registrySchema.optional(),
  host: str.optional(),
  hosts: hostListSchema.optional(),
  role: str.optional(),
  roles: arrayOf(str).optional(),
  tag: str.optional(),
  tags: arrayOf(str).optional(),
  cmd: str.optional(),
  port: str.optional(),
  labels: hashOf(str).optional(),
  options: anyHash.optional(),
  env: envSchema.optional(),
  files: arrayOf(accessoryPathSchema).optional(),
  directories: arrayOf(accessoryPathSchema).optional(),
  volumes: arrayOf(str).optional(),
  network: str.optional(),
  proxy: z.union([z.literal(false), proxySchema], { error: MSG.hash }).optional(),
});

const archSchema = custom<string | string[]>((v) => isStringish(v) || (Array.isArray(v) && v.every(isStringish)), 'should be an array or a string', {
  anyOf: [JSON_SCALAR, { type: 'array', items: JSON_SCALAR }],
}).transform((v: unknown) => (Array.isArray(v) ? v.map((a) => rubyToS(a as string)) : rubyToS(v as string)));

export const builderSchema = strict({
  arch: archSchema.optional().describe('amd64, arm64, or a list of them'),
  remote: str.optional().describe('Remote builder connection, e.g. ssh://docker@builder'),
  local: bool.optional(),
  pack: strict({ builder: str.optional(), buildpacks: arrayOf(str).optional() }).optional(),
  cache: strict({ type: str.optional(), options: str.optional(), image: str.optional() }).optional(),
  context: str.optional(),
  dockerfile: str.optional(),
  target: str.optional(),
  args: anyHash.optional(),
  secrets: arrayOf(str).optional(),
  ssh: str.optional(),
  driver: str.optional(),
  provenance: str.optional(),
  sbom: bool.optional(),
});

export const bootSchema = strict({
  limit: str.optional().describe('Hosts booted at a time: a number or a percentage like "25%"'),
  wait: int.optional(),
  parallel_roles: bool.optional(),
});

export const sshSchema = strict({
  user: str.optional(),
  port: str.optional(),
  proxy: str.optional(),
  proxy_command: str.optional(),
  log_level: str.optional(),
  keys_only: bool.optional(),
  keys: arrayOf(str).optional(),
  key_data: arrayOf(str).optional(),
  config: z.union([bool, z.string(), arrayOf(str)], { error: 'should be a boolean or a string or an array' }).optional(),
  forward_agent: bool.optional(),
});

export const sshkitSchema = strict({
  max_concurrent_starts: int.optional(),
  pool_idle_timeout: int.optional(),
  dns_retries: int.optional(),
});

export const outputSchema = strict({
  otel: strict({ endpoint: str.optional() }).optional(),
  file: strict({ path: str.optional() }).optional(),
});

const hooksOutputLevel = stringish('should be a string or a symbol');
export const hooksOutputSchema = z.union([hooksOutputLevel, hashOf(hooksOutputLevel)], {
  error: 'should be a string or a symbol',
});

export const deployConfigShape = {
  service: str.optional().describe('Service name, used as the container name prefix'),
  image: str.optional().describe('Image name, pushed to the registry'),
  labels: hashOf(str).optional(),
  volumes: arrayOf(str).optional(),
  registry: registrySchema.optional(),
  servers: serversSchema.optional(),
  env: envSchema.optional(),
  asset_path: str.optional(),
  hooks_path: str.optional(),
  hooks_output: hooksOutputSchema.optional(),
  secrets_path: str.optional(),
  error_pages_path: str.optional(),
  require_destination: bool.optional(),
  primary_role: str.optional(),
  allow_empty_roles: bool.optional(),
  retain_containers: int.optional(),
  minimum_version: str.optional(),
  readiness_delay: int.optional(),
  deploy_timeout: int.optional(),
  drain_timeout: int.optional(),
  stop_timeout: int.optional(),
  run_directory: str.optional(),
  ssh: sshSchema.optional(),
  builder: builderSchema.optional(),
  accessories: hashOf(accessorySchema).optional(),
  proxy: proxySchema.optional(),
  sshkit: sshkitSchema.optional(),
  boot: bootSchema.optional(),
  logging: loggingSchema.optional(),
  output: outputSchema.optional(),
  aliases: hashOf(str).optional(),
};

/**
 * The whole configuration. Root keys starting with `x-` are extensions: strip
 * them before parsing with this schema (validateConfig does).
 */
export const deployConfigSchema = strict(deployConfigShape);

export type DeployConfig = z.output<typeof deployConfigSchema>;
export type DeployConfigInput = z.input<typeof deployConfigSchema>;
export type RoleConfig = z.output<typeof roleObjectSchema>;
export type HostEntry = z.output<typeof hostEntrySchema>;
export type ProxyConfig = z.output<typeof proxySchema>;
export type ProxyRunConfig = z.output<typeof proxyRunSchema>;
export type RegistryConfig = z.output<typeof registrySchema>;
export type EnvConfig = z.output<typeof envSchema>;
export type TagEnvConfig = z.output<typeof tagEnvSchema>;
export type AccessoryConfig = z.output<typeof accessorySchema>;
export type AccessoryPath = z.output<typeof accessoryPathSchema>;
export type BuilderConfig = z.output<typeof builderSchema>;
export type BootConfig = z.output<typeof bootSchema>;
export type SshConfig = z.output<typeof sshSchema>;
export type SshkitConfig = z.output<typeof sshkitSchema>;
export type LoggingConfig = z.output<typeof loggingSchema>;
export type OutputConfig = z.output<typeof outputSchema>;

/** Drops root `x-*` keys (Kamal ignores them; they exist for YAML anchors). */
export function withoutExtensions(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('x-')) out[k] = v;
  return out;
}

export { isPlainObject };
