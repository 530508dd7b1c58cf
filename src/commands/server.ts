/** Directories on each host (Kamal::Commands::Server). */
import { cmd, pipe, type Command, type SimpleCommand } from '../shell.js';
import { Base } from './base.js';

export class Server extends Base {
  ensureRunDirectory(): SimpleCommand {
    return this.makeDirectory(this.config.runDirectory);
  }

  removeAppDirectory(): SimpleCommand {
    return this.removeDirectory(this.config.appDirectory);
  }

  appDirectoryCount(): Command {
    return pipe(cmd('ls', this.config.appsDirectory), cmd('wc', '-l'));
  }
}
