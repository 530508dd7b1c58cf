// Ported from Kamal's test/commands/builder_test.rb (v2.12.0), with amd64 as the local arch.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Builder } from '../../../src/commands/index.js';
import { Configuration, deepMerge } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { cmd, render } from '../../../src/shell.js';
import { throws, type KamalCase } from './parity.js';

type Raw = Record<string, any>;

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: ['1.1.1.1'],
  builder: { arch: 'amd64' },
});

function newBuilder(additional: Raw = {}, secrets: Record<string, string> = {}, fileExists?: (path: string) => boolean): Builder {
  const config = new Configuration(deepMerge(base(), additional), { version: '123', localArch: 'amd64', secrets: new MapSecretStore(secrets) });
  return new Builder(config, { fileExists });
}

export const builderCases: KamalCase[] = [
  { test: 'target linux/amd64 locally by default', run: () => newBuilder({ builder: { cache: { type: 'gha' } } }).name, expected: 'local' },
  {
    test: 'target linux/amd64 locally by default',
    run: () => newBuilder({ builder: { cache: { type: 'gha' } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  { test: 'target specified arch locally by default', run: () => newBuilder({ builder: { arch: ['amd64'] } }).name, expected: 'local' },
  {
    test: 'target specified arch locally by default',
    run: () => newBuilder({ builder: { arch: ['amd64'] } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1',
  },
  { test: 'build with caching', run: () => newBuilder({ builder: { cache: { type: 'gha' } } }).name, expected: 'local' },
  {
    test: 'build with caching',
    run: () => newBuilder({ builder: { cache: { type: 'gha' } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'hybrid build if remote is set and building multiarch',
    run: () => newBuilder({ builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@127.0.0.1', cache: { type: 'gha' } } }).name,
    expected: 'hybrid',
  },
  {
    test: 'hybrid build if remote is set and building multiarch',
    run: () => newBuilder({ builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@127.0.0.1', cache: { type: 'gha' } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'remote build if remote is set and local disabled',
    run: () => newBuilder({ builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@127.0.0.1', cache: { type: 'gha' }, local: false } }).name,
    expected: 'remote',
  },
  {
    test: 'remote build if remote is set and local disabled',
    run: () => newBuilder({ builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@127.0.0.1', cache: { type: 'gha' }, local: false } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-remote-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'target remote when remote set and arch is non local',
    run: () => newBuilder({ builder: { arch: ['arm64'], remote: 'ssh://app@host', cache: { type: 'gha' } } }).name,
    expected: 'remote',
  },
  {
    test: 'target remote when remote set and arch is non local',
    run: () => newBuilder({ builder: { arch: ['arm64'], remote: 'ssh://app@host', cache: { type: 'gha' } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-host -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'target local when remote set and arch is local',
    run: () => newBuilder({ builder: { arch: ['amd64'], remote: 'ssh://app@host', cache: { type: 'gha' } } }).name,
    expected: 'local',
  },
  {
    test: 'target local when remote set and arch is local',
    run: () => newBuilder({ builder: { arch: ['amd64'], remote: 'ssh://app@host', cache: { type: 'gha' } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'target pack when pack is set',
    run: () =>
      newBuilder({ image: 'dhh/app', builder: { arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } } }).name,
    expected: 'pack',
  },
  {
    test: 'target pack when pack is set',
    run: () =>
      newBuilder({
        image: 'dhh/app',
        builder: { arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } },
      }).push(),
    expected:
      'pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --path . && docker push dhh/app:123 && docker push dhh/app:latest',
  },
  {
    test: 'pack build args passed as env',
    run: () =>
      newBuilder({
        image: 'dhh/app',
        builder: { args: { a: 1, b: 2 }, ...{ arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } } },
      }).push(),
    expected:
      'pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --env a="1" --env b="2" --path . && docker push dhh/app:123 && docker push dhh/app:latest',
  },
  {
    test: 'pack build with no cache',
    run: () =>
      newBuilder({
        image: 'dhh/app',
        builder: { args: { a: 1, b: 2 }, ...{ arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } } },
      }).push('registry', { noCache: true }),
    expected:
      'pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --clear-cache --env BP_IMAGE_LABELS=service=app --env a="1" --env b="2" --path . && docker push dhh/app:123 && docker push dhh/app:latest',
  },
  {
    test: 'pack build secrets as env',
    run: () =>
      newBuilder(
        {
          image: 'dhh/app',
          builder: {
            secrets: ['token_a', 'token_b'],
            ...{ arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } },
          },
        },
        { token_a: 'foo', token_b: 'bar' },
      ).push(),
    expected:
      'pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --env token_a="foo" --env token_b="bar" --path . && docker push dhh/app:123 && docker push dhh/app:latest',
  },
  { test: 'cloud builder', run: () => newBuilder({ builder: { arch: ['amd64'], driver: 'cloud docker-org-name/builder-name' } }).name, expected: 'cloud' },
  {
    test: 'cloud builder',
    run: () => newBuilder({ builder: { arch: ['amd64'], driver: 'cloud docker-org-name/builder-name' } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder cloud-docker-org-name-builder-name -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1',
  },
  {
    test: 'build args',
    run: () => cmd(...newBuilder({ builder: { args: { a: 1, b: 2 } } }).target.buildOptions()),
    expected: '--label service="app" --build-arg a="1" --build-arg b="2" --file Dockerfile',
  },
  {
    test: 'build secrets',
    run: () => cmd(...newBuilder({ builder: { secrets: ['token_a', 'token_b'] } }, { token_a: 'foo', token_b: 'bar' }).target.buildOptions()),
    expected: '--label service="app" --secret id="token_a" --secret id="token_b" --file Dockerfile',
  },
  {
    test: 'build dockerfile',
    run: () => cmd(...newBuilder({ builder: { dockerfile: 'Dockerfile.xyz' } }, {}, () => true).target.buildOptions()),
    expected: '--label service="app" --file Dockerfile.xyz',
  },
  {
    test: 'missing dockerfile',
    run: () => newBuilder({ builder: { dockerfile: 'Dockerfile.xyz' } }, {}, () => false).target.buildOptions(),
    expected: throws(/^Missing Dockerfile.xyz$/),
  },
  {
    test: 'build target',
    run: () => cmd(...newBuilder({ builder: { target: 'prod' } }).target.buildOptions()),
    expected: '--label service="app" --file Dockerfile --target prod',
  },
  {
    test: 'build context',
    run: () => newBuilder({ builder: { context: '..' } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile .. 2>&1',
  },
  {
    test: 'push with build args',
    run: () => newBuilder({ builder: { args: { a: 1, b: 2 } } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg a="1" --build-arg b="2" --file Dockerfile . 2>&1',
  },
  {
    test: 'push with build secrets',
    run: () => newBuilder({ builder: { secrets: ['a', 'b'] } }, { a: 'foo', b: 'bar' }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --secret id="a" --secret id="b" --file Dockerfile . 2>&1',
  },
  {
    test: 'build with ssh agent socket',
    run: () => cmd(...newBuilder({ builder: { ssh: 'default=$SSH_AUTH_SOCK' } }).target.buildOptions()),
    expected: '--label service="app" --file Dockerfile --ssh default=$SSH_AUTH_SOCK',
    words: true,
  },
  {
    test: 'validate image',
    run: () => newBuilder().validateImage(),
    expected:
      "docker inspect -f '{{ .Config.Labels.service }}' dhh/app:123 | grep -x app || (echo \"Image dhh/app:123 is missing the 'service' label\" && exit 1)",
  },
  {
    test: 'context build',
    run: () => newBuilder({ builder: { context: './foo' } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile ./foo 2>&1',
  },
  {
    test: 'push with provenance',
    run: () => newBuilder({ builder: { provenance: 'mode=max' } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance mode=max . 2>&1',
  },
  {
    test: 'push with provenance false',
    run: () => newBuilder({ builder: { provenance: false } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance false . 2>&1',
  },
  {
    test: 'push with sbom',
    run: () => newBuilder({ builder: { sbom: true } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom true . 2>&1',
  },
  {
    test: 'push with sbom false',
    run: () => newBuilder({ builder: { sbom: false } }).push(),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom false . 2>&1',
  },
  { test: 'mirror count', run: () => newBuilder().firstMirror(), expected: "docker info --format '{{index .RegistryConfig.Mirrors 0}}'" },
  {
    test: 'push with no cache',
    run: () => newBuilder().push('registry', { noCache: true }),
    expected:
      'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --no-cache . 2>&1',
  },
  {
    test: 'clone path with spaces',
    run: () => newBuilder().clone({ gitRoot: '/absolute/path with spaces', cloneDirectory: '/tmp/kamal-clones/app-abc' }),
    expected: 'git -C /tmp/kamal-clones/app-abc clone /absolute/path\\ with\\ spaces --recurse-submodules',
    words: true,
  },
  {
    test: 'clone path with spaces',
    run: () =>
      newBuilder()
        .cloneResetSteps({ gitRoot: '/absolute/path with spaces', buildDirectory: '/tmp/kamal-clones/app-abc/path with spaces', revision: 'abc' })
        .map((c) => render(c))
        .every((c) => c.includes("'/absolute/path with spaces'") || c.includes("'/tmp/kamal-clones/app-abc/path with spaces'")),
    expected: true,
  },
  {
    test: 'clone reset runs git gc --auto to bound pack growth',
    run: () =>
      newBuilder()
        .cloneResetSteps({ gitRoot: '/repo', buildDirectory: '/tmp/clone/repo', revision: 'abc' })
        .map((c) => render(c))
        .some((c) => c.endsWith(' gc --auto --quiet')),
    expected: true,
  },
  {
    test: 'local builder with local registry includes network host driver option',
    run: () => newBuilder({ registry: { server: 'localhost:5000' } }).name,
    expected: 'local',
  },
  {
    test: 'local builder with local registry includes network host driver option',
    run: () => newBuilder({ registry: { server: 'localhost:5000' } }).create(),
    expected: 'docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host',
  },
  {
    test: 'remote builder with local registry',
    run: () => newBuilder({ registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } }).name,
    expected: 'remote',
  },
  {
    test: 'remote builder with local registry',
    run: () => newBuilder({ registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } }).create(),
    expected:
      "docker context create kamal-remote-ssh---app-1-1-1-5-local-registry-context --description 'kamal-remote-ssh---app-1-1-1-5-local-registry host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5-local-registry --driver-opt network=host kamal-remote-ssh---app-1-1-1-5-local-registry-context",
    words: true,
  },
  {
    test: 'hybrid builder with local registry',
    run: () => newBuilder({ registry: { server: 'localhost:5000' }, builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@1.1.1.5' } }).name,
    expected: 'hybrid',
  },
  {
    test: 'hybrid builder with local registry',
    run: () => newBuilder({ registry: { server: 'localhost:5000' }, builder: { arch: ['amd64', 'arm64'], remote: 'ssh://app@1.1.1.5' } }).create(),
    expected:
      "docker buildx create --platform linux/amd64 --name kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry --driver=docker-container --driver-opt network=host && docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/arm64 --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry --driver-opt network=host kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry-context",
    words: true,
  },
];
