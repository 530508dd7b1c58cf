/** `prune` (Kamal::Cli::Prune): old app containers and dangling or untagged images on every host. */
import { UsageError } from '../errors.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';

export async function pruneImages(kamal: Kamal): Promise<void> {
  await withLock(kamal, () =>
    kamal.on(kamal.hosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Pruned images'));
      await kamal.exec(host, kamal.cmds.prune.danglingImages());
      await kamal.exec(host, kamal.cmds.prune.taggedImages());
    }),
  );
}

export async function pruneContainers(kamal: Kamal, retain?: number): Promise<void> {
  const keep = retain ?? kamal.config.retainContainers;
  if (keep < 1) throw new UsageError('retain must be at least 1');
  await withLock(kamal, () =>
    kamal.on(kamal.hosts, async (host) => {
      await kamal.exec(host, kamal.cmds.auditor().record('Pruned containers'));
      await kamal.exec(host, kamal.cmds.prune.appContainers(keep));
    }),
  );
}

export async function pruneAll(kamal: Kamal): Promise<void> {
  await withLock(kamal, async () => {
    await pruneContainers(kamal);
    await pruneImages(kamal);
  });
}
