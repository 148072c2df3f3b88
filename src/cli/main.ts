import { Command, CommanderError } from 'commander';
import { ApiError } from './client';
import { exportCommand } from './export';
import { ordersCommand } from './orders';
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
  const cli = program().exitOverride();
  try {
    await cli.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, cli.opts<{ json?: boolean }>().json === true);
  }
}

/**
 * What went wrong, on stderr: one line, or with --json one JSON object. A refusal of the API carries its
 * status and problem detail.
 */
function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) return error.exitCode;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const problem =
      error instanceof ApiError ? { status: error.status, title: error.title, detail: error.detail } : {};
    process.stderr.write(`${JSON.stringify({ error: message, ...problem })}\n`);
  } else {
    process.stderr.write(`durapay: ${error instanceof ApiError ? 'the API answered ' : ''}${message}\n`);
  }
  return 1;
}

if (require.main === module) void main(process.argv);
