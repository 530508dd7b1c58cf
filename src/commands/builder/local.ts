/** Builds on this machine with a buildx builder of its own (Kamal::Commands::Builder::Local). */
import type { Command } from '../../shell.js';
import { docker } from '../base.js';
import { BuilderBase } from './base.js';

export class LocalBuilder extends BuilderBase {
  readonly name = 'local' as const;

  create(): Command | undefined {
    if (this.builderConfig.isDockerDriver) return undefined;
    return docker('buildx', 'create', '--name', this.builderName(), `--driver=${this.builderConfig.driver}`, this.driverOptions());
  }

  remove(): Command | undefined {
    return this.builderConfig.isDockerDriver ? undefined : docker('buildx', 'rm', this.builderName());
  }

  builderName(): string {
    return this.config.registry.local ? `kamal-local-registry-${this.builderConfig.driver}` : `kamal-local-${this.builderConfig.driver}`;
  }
}
