// Ported from Kamal's test/commands/docker_test.rb (v2.12.0).
import { Docker } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import type { KamalCase } from './parity.js';

function docker(): Docker {
  return new Docker(
    new Configuration({
      service: 'app',
      image: 'dhh/app',
      registry: { username: 'dhh', password: 'secret' },
      servers: ['1.1.1.1'],
      builder: { arch: 'amd64' },
    }),
  );
}

export const dockerCases: KamalCase[] = [
  {
    test: 'install',
    run: () => docker().install(),
    expected: 'sh -c \'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo "exit 1"\' | sh',
  },
  { test: 'installed?', run: () => docker().installed(), expected: 'docker -v' },
  { test: 'running?', run: () => docker().running(), expected: 'docker version' },
  { test: 'superuser?', run: () => docker().superuser(), expected: '[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null' },
  { test: 'root?', run: () => docker().root(), expected: '[ "${EUID:-$(id -u)}" -eq 0 ]' },
  { test: 'in_docker_group?', run: () => docker().inDockerGroup(), expected: 'id -nG "${USER:-$(id -un)}" | grep -qw docker' },
  { test: 'add_to_docker_group', run: () => docker().addToDockerGroup(), expected: 'sudo -n usermod -aG docker "${USER:-$(id -un)}"' },
  { test: 'refresh_session', run: () => docker().refreshSession(), expected: 'kill -HUP $PPID' },
];
