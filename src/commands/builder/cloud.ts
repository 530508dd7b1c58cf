import type { Command } from '../../shell.js';
import { docker } from '../base.js';
import { BuilderBase } from './base.js';

/** Docker Build Cloud (Kamal::Commands::Builder::Cloud); `driver` is `cloud <org>/<builder>`. */
export class CloudBuilder extends BuilderBase {
  readonly name = 'cloud' as const;

  // Kamal passes the driver unquoted: `--driver cloud <org>/<builder>`, the endpoint being its own argument
  create(): Command {
    return docker('buildx', 'create', '--driver', ...this.builderConfig.driver.split(/\s+/).filter(Boolean));
  }

  remove(): Command {
    return docker('buildx', 'rm', this.builderName());
  }

  builderName(): string {
    return this.builderConfig.driver.replace(/[ /]/g, '-');
  }

  override withoutBuildxProblem(): [string, string] {
    return ['builder/driver', `${this.builderConfig.driver} builds through docker buildx, which is not installed here`];
  }
}
