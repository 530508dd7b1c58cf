/**
 * Help as Kamal gives it: every command's help lists the options that apply to every command
 * (Kamal's class options: -v, -q, --version, -p, -h, -r, -c, -d, -H, --lock-wait...) beside its own,
 * and the command list names `plan`, which runCli handles before the command tree.
 */
import type { Command } from 'commander';

/** Shows the global options in each command's help; call before adding commands (they inherit it). */
export function showGlobalOptionsInHelp(program: Command): Command {
  return program.configureHelp({ showGlobalOptions: true });
}

export const PLAN_DESCRIPTION = 'Print the commands a command would run, without connecting anywhere (--json for a list)';

/**
 * `plan COMMAND...` in the help. runCli runs it (a dry run of the command that follows); this
 * entry is only what `help` shows.
 */
export function addPlanHelp(program: Command): void {
  program
    .command('plan')
    .description(PLAN_DESCRIPTION)
    .usage('[--json] <command> [options]')
    .argument('<command...>', 'the command to plan, with its arguments and options')
    .option('--json', 'Print the planned commands as JSON')
    .helpOption('--help', 'Show help')
    .allowUnknownOption()
    .action(() => undefined);
}
