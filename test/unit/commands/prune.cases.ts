// Ported from Kamal's test/commands/prune_test.rb (v2.12.0).
import { Prune } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import type { KamalCase } from './parity.js';

function newCommand(): Prune {
  return new Prune(
    new Configuration(
      { service: 'app', image: 'dhh/app', registry: { username: 'dhh', password: 'secret' }, servers: ['1.1.1.1'], builder: { arch: 'amd64' } },
      { version: '123' },
    ),
  );
}

export const pruneCases: KamalCase[] = [
  { test: 'dangling images', run: () => newCommand().danglingImages(), expected: 'docker image prune --force --filter label=service=app' },
  {
    test: 'tagged images',
    run: () => newCommand().taggedImages(),
    expected:
      "docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v -w \"$(docker container ls -a --format '{{.Image}}\\|' --filter label=service=app | tr -d '\\n')dhh/app:latest\\|dhh/app:<none>\" | while read image tag; do docker rmi $tag; done",
    words: true,
  },
  {
    test: 'app containers',
    run: () => newCommand().appContainers({ retain: 5 }),
    expected:
      'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done',
  },
  {
    test: 'app containers',
    run: () => newCommand().appContainers({ retain: 3 }),
    expected:
      'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +4 | while read container_id; do docker rm $container_id; done',
  },
];
