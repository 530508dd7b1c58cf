import { argumentize } from '../../model/utils.js';
import { cmd, combine, type Command, type SimpleCommand } from '../../shell.js';
import { docker } from '../base.js';
import { BuilderBase, type PushOptions } from './base.js';

/** Cloud Native Buildpacks, `pack build` (Kamal::Commands::Builder::Pack). */
export class PackBuilder extends BuilderBase {
  readonly name = 'pack' as const;

  override push(exportAction = 'registry', opts: PushOptions = {}): Command {
    return combine(this.build(opts), this.export(exportAction));
  }

  create(): Command | undefined {
    return undefined;
  }

  remove(): Command | undefined {
    return undefined;
  }

  builderName(): string {
    return this.builderConfig.packBuilder ?? '';
  }

  override info(): Command {
    return cmd('pack', 'builder', 'inspect', this.builderConfig.packBuilder ?? '');
  }

  override inspectBuilder(): Command {
    return this.info();
  }

  private build(opts: PushOptions): SimpleCommand {
    const buildpacks = [...(this.builderConfig.packBuildpacks ?? []), 'paketo-buildpacks/image-labels'];
    return cmd(
      'pack',
      'build',
      this.config.repository,
      '--platform',
      `linux/${this.builderConfig.localArches[0]}`,
      '--creation-time',
      'now',
      '--builder',
      this.builderConfig.packBuilder ?? '',
      buildpacks.flatMap((b) => ['--buildpack', b]),
      this.buildTagOptions(opts.tagAsDirty),
      opts.noCache ? '--clear-cache' : null,
      '--env',
      `BP_IMAGE_LABELS=service=${this.config.service}`,
      argumentize('--env', this.builderConfig.args),
      argumentize('--env', this.builderConfig.secrets, { sensitive: true }),
      '--path',
      this.buildContext(),
    );
  }

  private export(exportAction: string): Command | undefined {
    if (exportAction !== 'registry') return undefined;
    return combine(docker('push', this.config.absoluteImage), docker('push', this.config.latestImage));
  }
}
