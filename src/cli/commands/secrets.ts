/** `secrets` (Kamal::Cli::Secrets): fetch from a vault, extract one, print the resolved ones. */
import { UsageError } from '../../errors.js';
import type { VendorRunner } from '../../secrets/adapters/index.js';
import { secretsExtract, secretsFetch, secretsPrintLines } from '../../secrets/cli.js';
import { str, type CommandGroup } from './table.js';

export const secretsCommands: CommandGroup = {
  name: 'secrets',
  description: 'Helpers for extracting secrets',
  commands: [
    {
      name: 'fetch',
      description: 'Fetch secrets from a vault',
      arguments: [{ name: '[secrets...]' }],
      options: [
        { flags: '-a, --adapter <adapter>', description: 'Which vault adapter to use' },
        { flags: '--account <account>', description: 'The account identifier or username' },
        { flags: '--from <from>', description: 'A vault or folder to fetch the secrets from' },
        { flags: '--inline', description: '', hidden: true },
      ],
      local: async (io, options, names) => {
        if (typeof options.adapter !== 'string') throw new UsageError("No value provided for required options '--adapter'");
        const args = { adapter: options.adapter, account: str(options, 'account'), from: str(options, 'from'), names, inline: !!options.inline };
        // tests give a recording runner; otherwise the vendor CLIs run through sh
        io.out(secretsFetch(args, { env: io.env, cwd: io.cwd, run: (io as { vendorRunner?: VendorRunner }).vendorRunner }));
      },
    },
    {
      name: 'extract',
      description: 'Extract a single secret from the results of a fetch call',
      arguments: [{ name: '<name>' }, { name: '<secrets>' }],
      options: [{ flags: '--inline', description: '', hidden: true }],
      local: async (io, options, args) => io.out(secretsExtract(args[0]!, args[1]!, !!options.inline)),
    },
    {
      name: 'print',
      description: 'Print the secrets (redacted unless --reveal)',
      options: [{ flags: '--reveal', description: 'Print the secret values' }],
      run: async (kamal, options) => {
        const store = kamal.config.secrets;
        kamal.reporter.write(
          secretsPrintLines(
            store.keys().map((key) => [key, store.get(key)!.reveal()] as [string, string]),
            !!options.reveal,
          ),
        );
      },
    },
  ],
};
