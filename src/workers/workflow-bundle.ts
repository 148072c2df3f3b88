/**
 * The worker's workflow code, bundled by webpack in a short-lived child process. Webpack's memory stays with
 * the process that ran it (about 120 MiB, never given back), so bundling in the worker itself would keep it
 * for the worker's whole life. Run as a script, this file writes the bundle to stdout.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';

const MAX_BUNDLE_BYTES = 256 * 2 ** 20;

export async function bundleWorkflowsInChildProcess(): Promise<WorkflowBundle> {
  // Same Node flags as this process, so the child loads TypeScript the same way.
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, __filename], {
    maxBuffer: MAX_BUNDLE_BYTES,
  });
  return { code: stdout };
}

/** Workflow code with the failure converter the workers use; the bundler reports only problems, on stderr. */
export function bundleWorkflows(workflowsPath: string = require.resolve('../workflows')) {
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => console.error(message),
      error: (message: string) => console.error(message),
    },
  });
}

if (require.main === module) {
  bundleWorkflows()
    .then(({ code }) => process.stdout.write(code))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
