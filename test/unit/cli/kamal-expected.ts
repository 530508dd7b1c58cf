/**
 * The commands Kamal 2.12 runs for the fixture app (test/fixtures/plan/app),
 * written out from Kamal's own code and command tests (lib/kamal/commands/*,
 * test/commands/*_test.rb, test/cli/*_test.rb at v2.12.0), in the normalized
 * form of helpers.normalize. `destination` undefined is a run without -d.
 */
import { audit } from './helpers.js';

export interface Destination {
  destination?: string;
  web: [string, string];
  job: string;
  mysql: string;
  proxyHost: string;
}

export const DEFAULT: Destination = {
  web: ['10.0.0.1', '10.0.0.2'],
  job: '10.0.0.3',
  mysql: '10.0.0.4',
  proxyHost: 'app.example.com',
};

export const STAGING: Destination = {
  destination: 'staging',
  web: ['10.1.0.1', '10.1.0.2'],
  job: '10.1.0.3',
  mysql: '10.1.0.4',
  proxyHost: 'staging.app.example.com',
};

export const PRODUCTION: Destination = {
  destination: 'production',
  web: ['10.2.0.1', '10.2.0.2'],
  job: '10.2.0.3',
  mysql: '10.2.0.4',
  proxyHost: 'app.example.com',
};

const IMAGE = 'registry.example.com/acme/app';

/** Kamal's commands for one destination and version. */
export function kamal(d: Destination, version = 'abc') {
  const dest = d.destination;
  const latest = `${IMAGE}:${dest ? `latest-${dest}` : 'latest'}`;
  const image = `${IMAGE}:${version}`;
  const prefix = (role: string) => (dest ? `app-${role}-${dest}` : `app-${role}`);
  const appDir = dest ? `.kamal/apps/app-${dest}` : '.kamal/apps/app';
  const proxyAppDir = dest ? `app-${dest}` : 'app';
  const lockDir = dest ? `.kamal/lock-app-${dest}` : '.kamal/lock-app';
  const a = (line: string, role?: string) => audit(line, { destination: dest, role });

  return {
    image,
    latest,
    login: 'docker login registry.example.com -u "deployer" --password-stdin',
    // Kamal::Commands::Builder (local docker-container builder, arch amd64)
    inspectBuilder: 'docker buildx inspect kamal-local-docker-container',
    build: `docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t ${image} -t ${latest} --label service="app" --file Dockerfile . 2>&1`,
    firstMirror: "docker info --format '{{index .RegistryConfig.Mirrors 0}}'",
    pulledAudit: a(`Pulled image with version ${version}`),
    clean: `docker image rm --force ${image}`,
    pull: `docker pull ${image}`,
    validateImage: `docker inspect -f '{{ .Config.Labels.service }}' ${image} | grep -x app || (echo "Image ${image} is missing the 'service' label" && exit 1)`,
    // Kamal::Cli::Base#acquire_lock
    ensureRunDirectory: 'mkdir -p .kamal',
    lockAcquire: `mkdir ${lockDir} && echo "<details>" > ${lockDir}/details`,
    lockRelease: `rm ${lockDir}/details && rm -r ${lockDir}`,
    lockStatus: `stat ${lockDir} > /dev/null && cat ${lockDir}/details | base64 -d`,
    // Kamal::Cli::Proxy#boot
    createNetwork: 'docker network create kamal',
    proxyVersion: "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'",
    proxyAppsConfig: 'mkdir -p .kamal/proxy/apps-config',
    proxyRun:
      'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") ' +
      '$(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") ' +
      '$(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped ' +
      '--volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
    get proxyStartOrRun(): string {
      return `docker container start kamal-proxy || ${this.proxyRun}`;
    },
    proxyRebootAudit: a('Rebooted proxy'),
    proxyStop: 'docker container stop kamal-proxy',
    proxyRemoveContainer: 'docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy',
    // Kamal::Commands::App
    listVersions: (role: string) =>
      `docker ps --filter label=service=app --filter label=destination=${dest ?? ''} --filter label=role=${role} --format "{{.Names}}" | while read line; do echo $` +
      `{line#${prefix(role)}-}; done`,
    currentRunningVersion: (role: string) => {
      const filters = `--filter label=service=app --filter label=destination=${dest ?? ''} --filter label=role=${role} --filter status=running --filter status=restarting`;
      return (
        `sh -c 'docker ps --latest --format '\\''{{.Names}}'\\'' ${filters} --filter ancestor=$(docker image ls --filter reference=${latest} --format '\\''{{.ID}}'\\'') ; ` +
        `docker ps --latest --format '\\''{{.Names}}'\\'' ${filters}' | head -1 | while read line; do echo $` +
        `{line#${prefix(role)}-}; done`
      );
    },
    sslDirectory: `mkdir -p .kamal/proxy/apps-config/${proxyAppDir}/tls/web`,
    uploadCert: `upload .kamal/proxy/apps-config/${proxyAppDir}/tls/web/cert.pem (mode 644)`,
    uploadKey: `upload .kamal/proxy/apps-config/${proxyAppDir}/tls/web/key.pem (mode 644)`,
    containerIdForVersion: (role: string, v = version) => `docker container ls --all --filter 'name=^${prefix(role)}-${v}$' --quiet`,
    bootedAudit: (role: string) => a(`Booted app version ${version}`, role),
    ensureEnvDirectory: `mkdir -p ${appDir}/env/roles`,
    uploadEnv: (role: string) => `upload ${appDir}/env/roles/${role}.env (mode 600)`,
    run: (role: string, host: string) =>
      `docker run --detach --restart unless-stopped --name ${prefix(role)}-${version} --network kamal --hostname ${host}-<hex> ` +
      `--env KAMAL_CONTAINER_NAME="${prefix(role)}-${version}" --env KAMAL_VERSION="${version}" --env KAMAL_HOST="${host}" ` +
      (dest ? `--env KAMAL_DESTINATION="${dest}" ` : '') +
      `--env RAILS_LOG_TO_STDOUT="1" --env DB_HOST="app-mysql" --env-file ${appDir}/env/roles/${role}.env --log-opt max-size="10m" ` +
      `--label service="app" --label role="${role}" --label destination${dest ? `="${dest}"` : ''} ${image}` +
      (role === 'job' ? ' bin/jobs' : ''),
    proxyDeploy:
      `docker exec kamal-proxy kamal-proxy deploy ${prefix('web')} --target="<container-id>:3000" --host="${d.proxyHost}" --tls ` +
      `--tls-certificate-path="/home/kamal-proxy/.apps-config/${proxyAppDir}/tls/web/cert.pem" ` +
      `--tls-private-key-path="/home/kamal-proxy/.apps-config/${proxyAppDir}/tls/web/key.pem" ` +
      '--deploy-timeout="30s" --drain-timeout="30s" --health-check-path="/up" --buffer-requests --buffer-responses ' +
      '--log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    status: (role: string) =>
      `docker container ls --all --filter 'name=^${prefix(role)}-${version}$' --quiet | xargs docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'`,
    // web runs behind the proxy (it drains), other roles stop with drain_timeout
    stopOld: (role: string) =>
      `docker container ls --all --filter 'name=^${prefix(role)}-<current-version>$' --quiet | xargs docker stop${role === 'web' ? '' : ' -t 30'}`,
    taggingAudit: a(`Tagging ${image} as the latest image`),
    tagLatest: `docker tag ${image} ${latest}`,
    // Kamal::Cli::Prune#all
    prunedContainersAudit: a('Pruned containers'),
    pruneContainers:
      'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done',
    prunedImagesAudit: a('Pruned images'),
    pruneDangling: 'docker image prune --force --filter label=service=app',
    /** Kamal double-quotes the whole grep pattern; we quote the image part with single quotes (same words). */
    pruneTaggedKamal:
      String.raw`docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v -w "$(docker container ls -a --format '{{.Image}}\|' --filter label=service=app | tr -d '\n')` +
      String.raw`${latest}\|${IMAGE}:<none>" | while read image tag; do docker rmi $tag; done`,
    // Kamal::Cli::Server#bootstrap
    dockerInstalled: 'docker -v',
    // Kamal::Cli::Accessory#boot for mysql
    accessory: {
      info: 'docker ps -a -q --filter label=service=app-mysql',
      directories: ['mkdir -p $PWD/app-mysql/data'],
      files: [
        'mkdir -p app-mysql/etc/mysql',
        'upload app-mysql/etc/mysql/my.cnf',
        'chmod 755 app-mysql/etc/mysql/my.cnf',
        'mkdir -p app-mysql/docker-entrypoint-initdb.d',
        'upload app-mysql/docker-entrypoint-initdb.d/setup.sql',
        'chmod 755 app-mysql/docker-entrypoint-initdb.d/setup.sql',
      ],
      bootedAudit: a('Booted mysql accessory'),
      ensureEnvDirectory: `mkdir -p ${appDir}/env/accessories`,
      uploadEnv: `upload ${appDir}/env/accessories/mysql.env (mode 600)`,
      run:
        `docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 127.0.0.1:3306:3306 ` +
        `--env KAMAL_HOST="${d.mysql}" --env MYSQL_ROOT_HOST="%" --env-file ${appDir}/env/accessories/mysql.env ` +
        '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf ' +
        '--volume $PWD/app-mysql/docker-entrypoint-initdb.d/setup.sql:/docker-entrypoint-initdb.d/setup.sql ' +
        '--volume $PWD/app-mysql/data:/var/lib/mysql --label service="app-mysql" mysql:8.0',
    },
  };
}
