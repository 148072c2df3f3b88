import { Command, CommanderError } from 'commander';
import { ApiError, ConnectionError } from './client';
import { exportCommand } from './export';
import { ordersCommand } from './orders';
import { UsageError } from './settings';
import { simulateCommand } from './simulate';
import { uploadCommand, uploadsCommand } from './uploads';

const ENVIRONMENT = `
Environment:
  DURAPAY_URL   the API (default http://localhost:3000)
  DURAPAY_KEY   the API key to send. Unset, the CLI uses the local stack's development keys
                (.data/durapay_api_keys.dev, or DURAPAY_DATA_DIR): the client key for \`orders create\`
                and \`simulate\` (only clients create orders, and own them), the operator key for
                everything else (operators read, pay and cancel every order, upload and export).

Exit status: 0 on success, 1 on an error (the API's problem detail is printed), 2 when the command
worked but its outcome was not a success (a declined payment, an upload with rejected rows).`;

export function program(): Command {
  return new Command('durapay')
    .description('drive durapay through its HTTP API: orders, uploads, exports and a customer simulation')
    .option('--json', 'machine-readable output on stdout (no progress output)')
    .addHelpText('after', ENVIRONMENT)
    .showHelpAfterError()
    .addCommand(ordersCommand())
    .addCommand(uploadCommand())
    .addCommand(uploadsCommand())
    .addCommand(exportCommand())
    .addCommand(simulateCommand());
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().exitOverride().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/** One line on stderr saying what went wrong and, for the API's refusals, its status and detail. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode;
  if (error instanceof ApiError) {
    process.stderr.write(`durapay: the API answered ${error.message}\n`);
  } else if (error instanceof ConnectionError || error instanceof UsageError || error instanceof Error) {
    process.stderr.write(`durapay: ${error.message}\n`);
  } else {
    process.stderr.write(`durapay: ${String(error)}\n`);
  }
  return 1;
}

if (require.main === module) void main(process.argv);
