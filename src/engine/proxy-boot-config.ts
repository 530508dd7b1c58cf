/** `proxy boot_config set|get|reset` (deprecated in Kamal 2.10, still used). */
import { UsageError } from '../errors.js';
import type { Kamal } from './kamal.js';

export interface BootConfigOptions {
  publish?: boolean;
  publishHostIp?: string[];
  httpPort?: number;
  httpsPort?: number;
  logMaxSize?: string;
  registry?: string;
  repository?: string;
  imageVersion?: string;
  metricsPort?: number;
  debug?: boolean;
  dockerOptions?: string[];
}

export async function proxyBootConfig(kamal: Kamal, subcommand: string, o: BootConfigOptions): Promise<void> {
  kamal.say('The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead', 'warn');
  const boot = kamal.config.proxyBoot;
  switch (subcommand) {
    case 'set': {
      const bootOptions: string[] = [
        ...(o.publish !== false ? boot.publishArgs(o.httpPort ?? 80, o.httpsPort ?? 443, o.publishHostIp).map(String) : []),
        ...(boot.loggingArgs(o.logMaxSize ?? '10m') ?? []).map(String),
        ...(o.metricsPort ? [`--expose=${o.metricsPort}`] : []),
        ...(o.dockerOptions ?? []).map((opt) => `--${opt}`),
      ];
      const image = [o.registry || undefined, o.repository || boot.repositoryName, boot.imageName].filter(Boolean).join('/');
      const runOpts: string[] = [];
      if (o.debug) runOpts.push('--debug');
      if (o.metricsPort) runOpts.push(`--metrics-port "${o.metricsPort}"`);
      const runCommand = runOpts.length > 0 ? `kamal-proxy run ${runOpts.join(' ')}` : undefined;
      await kamal.on(kamal.proxyHosts, async (host) => {
        const proxy = kamal.cmds.proxy(host);
        await kamal.exec(host, proxy.ensureProxyDirectory());
        if (bootOptions.join(' ') !== boot.defaultBootOptions().join(' ')) {
          await kamal.upload(host, bootOptions.join(' '), boot.optionsFile);
        } else await kamal.exec(host, proxy.resetBootOptions(), { allowFailure: true });
        if (image !== boot.imageDefault) await kamal.upload(host, image, boot.imageFile);
        else await kamal.exec(host, proxy.resetImage(), { allowFailure: true });
        if (o.imageVersion) await kamal.upload(host, o.imageVersion, boot.imageVersionFile);
        else await kamal.exec(host, proxy.resetImageVersion(), { allowFailure: true });
        if (runCommand) await kamal.upload(host, runCommand, boot.runCommandFile);
        else await kamal.exec(host, proxy.resetRunCommand(), { allowFailure: true });
      });
      return;
    }
    case 'get':
      await kamal.on(kamal.proxyHosts, async (host) => {
        const out = await kamal.capture(host, kamal.cmds.proxy(host).bootConfig(), { allowFailure: true });
        kamal.reporter.write(`Host ${host}: ${out}\n`);
      });
      return;
    case 'reset':
      await kamal.on(kamal.proxyHosts, async (host) => {
        const proxy = kamal.cmds.proxy(host);
        await kamal.exec(host, proxy.resetBootOptions(), { allowFailure: true });
        await kamal.exec(host, proxy.resetImage(), { allowFailure: true });
        await kamal.exec(host, proxy.resetImageVersion(), { allowFailure: true });
        await kamal.exec(host, proxy.resetRunCommand(), { allowFailure: true });
      });
      return;
    default:
      throw new UsageError(`Unknown boot_config subcommand ${subcommand} (use set, get or reset)`);
  }
}
