import { ORDER_STATUSES } from '../domain/orders/order-state';
import { Command, Option } from 'commander';
import { withContext } from './context';
import { download, type DownloadFormat } from './download';
import { megabytes, perSecond, seconds } from './output';

export function exportCommand(): Command {
  return new Command('export')
    .description('export orders with their payments as CSV or XML into a file, streamed (operator key)')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'xml']).makeOptionMandatory())
    .requiredOption('-o, --output <file>', 'where to write the export; written only once it is complete')
    .addOption(new Option('--status <status>', 'only orders in this status').choices(ORDER_STATUSES))
    .option('--from <time>', 'orders created at or after this ISO 8601 time, such as 2026-03-01T00:00:00Z')
    .option('--to <time>', 'orders created before this ISO 8601 time')
    .addHelpText(
      'after',
      '\nIf the server fails mid-stream it cuts the transfer off: the command then exits 1 and leaves no file.',
    )
    .action(
      async (
        options: { format: DownloadFormat; output: string; status?: string; from?: string; to?: string },
        command: Command,
      ) =>
        withContext(command, async ({ api, out }) => {
          const result = await download(api, '/exports/orders', {
            role: 'operator',
            query: { format: options.format, status: options.status, from: options.from, to: options.to },
            file: options.output,
            format: options.format,
            label: 'exporting',
            out,
          });
          out.result(result, () => [
            `exported ${result.rows} rows (${megabytes(result.bytes)}) to ${result.file} in ${seconds(result.ms)}, ` +
              `${Math.round(perSecond(result.rows, result.ms))} rows/s`,
          ]);
        }),
    );
}
