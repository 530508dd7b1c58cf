// Ported from Kamal's test/commands/proxy_test.rb (v2.12.0).
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Proxy } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import type { KamalCase } from './parity.js';

type Raw = Record<string, any>;

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: ['1.1.1.1'],
  builder: { arch: 'amd64' },
});

function newCommand(change?: (c: Raw) => void): Proxy {
  const raw = base();
  change?.(raw);
  return new Proxy(new Configuration(raw, { version: '123' }), { host: '1.1.1.1' });
}

export const proxyCases: KamalCase[] = [
  {
    test: 'run',
    run: () => newCommand().run(),
    expected:
      'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
  },
  {
    test: 'run without configuration',
    run: () =>
      newCommand((c) => {
        delete c.proxy;
      }).run(),
    expected:
      'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
  },
  { test: 'proxy start', run: () => newCommand().start(), expected: 'docker container start kamal-proxy' },
  { test: 'proxy stop', run: () => newCommand().stop(), expected: 'docker container stop kamal-proxy' },
  { test: 'proxy info', run: () => newCommand().info(), expected: "docker ps --filter 'name=^kamal-proxy$'" },
  { test: 'proxy logs', run: () => newCommand().logs(), expected: 'docker logs kamal-proxy --timestamps 2>&1' },
  { test: 'proxy logs since 2h', run: () => newCommand().logs({ since: '2h' }), expected: 'docker logs kamal-proxy --since 2h --timestamps 2>&1' },
  { test: 'proxy logs last 10 lines', run: () => newCommand().logs({ lines: 10 }), expected: 'docker logs kamal-proxy --tail 10 --timestamps 2>&1' },
  { test: 'proxy logs without timestamps', run: () => newCommand().logs({ timestamps: false }), expected: 'docker logs kamal-proxy 2>&1' },
  {
    test: 'proxy logs with grep hello!',
    run: () => newCommand().logs({ grep: 'hello!' }),
    expected: "docker logs kamal-proxy --timestamps 2>&1 | grep 'hello!'",
  },
  {
    test: 'proxy remove container',
    run: () => newCommand().removeContainer(),
    expected: 'docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy',
  },
  {
    test: 'proxy remove image',
    run: () => newCommand().removeImage(),
    expected: 'docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy',
  },
  {
    test: 'proxy follow logs',
    run: () => newCommand().followLogs({ host: '1.1.1.1' }),
    expected: "ssh -t root@1.1.1.1 -p 22 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1'",
  },
  {
    test: 'proxy follow logs with grep hello!',
    run: () => newCommand().followLogs({ host: '1.1.1.1', grep: 'hello!' }),
    expected: 'ssh -t root@1.1.1.1 -p 22 \'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1 | grep "hello!"\'',
    words: 'deep',
  },
  { test: 'version', run: () => newCommand().version(), expected: "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'" },
  { test: 'ensure_proxy_directory', run: () => newCommand().ensureProxyDirectory(), expected: 'mkdir -p .kamal/proxy' },
  {
    test: 'read_boot_options',
    run: () => newCommand().readBootOptions(),
    expected: 'cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m"',
  },
  { test: 'read_image', run: () => newCommand().readImage(), expected: 'cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"' },
  { test: 'read_image_version', run: () => newCommand().readImageVersion(), expected: 'cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2"' },
  { test: 'read_run_command', run: () => newCommand().readRunCommand(), expected: 'cat .kamal/proxy/run_command 2> /dev/null || echo ""' },
  { test: 'reset_boot_options', run: () => newCommand().resetBootOptions(), expected: 'rm .kamal/proxy/options' },
  { test: 'reset_image', run: () => newCommand().resetImage(), expected: 'rm .kamal/proxy/image' },
  { test: 'reset_image_version', run: () => newCommand().resetImageVersion(), expected: 'rm .kamal/proxy/image_version' },
  { test: 'ensure_apps_config_directory', run: () => newCommand().ensureAppsConfigDirectory(), expected: 'mkdir -p .kamal/proxy/apps-config' },
  { test: 'reset_run_command', run: () => newCommand().resetRunCommand(), expected: 'rm .kamal/proxy/run_command' },
  {
    test: 'registry run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { registry: 'registry:4443' } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m registry:4443/basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
  },
  {
    test: 'repository run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { repository: 'custom/repo' } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m custom/repo:v0.9.2 kamal-proxy run',
  },
  {
    test: 'image_version run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { version: 'v1.2.3' } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v1.2.3 kamal-proxy run',
  },
  {
    test: 'bind_ips run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { bind_ips: ['0.0.0.0', '127.0.0.1'] } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 0.0.0.0:80:80 --publish 0.0.0.0:443:443 --publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
  },
  {
    test: 'log_max_size run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { log_max_size: '50m' } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=50m basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
  },
  {
    test: 'debug run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { debug: true } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run --debug',
  },
  {
    test: 'metrics_port run config',
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { metrics_port: 9090 } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9090 basecamp/kamal-proxy:v0.9.2 kamal-proxy run --metrics-port "9090"',
  },
  {
    test: "don't publish run config",
    run: () =>
      newCommand((c) => {
        c.proxy = { run: { publish: false } };
      }).run(),
    expected:
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
  },
];
