/** The Temporal CLI built from source with Go, and the check that a CLI binary runs here. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { run } from '../process';
import { MINUTE, seconds, type Log } from './routes';

/**
 * CLI tag built from source by `go install`; older than the wheel because v1.9.1 can't be: its go.mod
 * replaces the nested `cliext` module with a local directory, and `go install pkg@version` refuses any
 * module with replace directives (and module downloads leave nested modules out anyway).
 */
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

export async function installCliWithGo(opts: {
  toolsDir: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}): Promise<string> {
  const { toolsDir, dest, env, log } = opts;
  const pkg = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION}`;
  // Fail fast without Go, before announcing a long build.
  await run('go', ['version'], { env, timeoutMs: MINUTE });
  await fs.mkdir(path.dirname(dest), { recursive: true });
  // A GOBIN of our own next to `dest`: go install writes in place, we want the atomic rename.
  const gobin = await fs.mkdtemp(path.join(toolsDir, 'go-install-'));
  try {
    log(`building ${pkg} from source with go install; this takes 5-15 minutes`);
    const started = Date.now();
    const version = TEMPORAL_CLI_GO_VERSION.replace(/^v/, '');
    await run(
      'go',
      [
        'install',
        '-trimpath',
        // What the CLI's release build sets, so that `temporal --version` tells the truth.
        `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${version}`,
        pkg,
      ],
      // CGO off as in the CLI's releases: its SQLite is pure Go, and no C compiler is needed.
      { env: { ...env, GOBIN: gobin, CGO_ENABLED: '0' }, timeoutMs: 45 * MINUTE },
    );
    const built = path.join(gobin, path.basename(dest));
    await verifyCli(built, env);
    await fs.rename(built, dest);
    log(`built ${pkg} in ${seconds(started)}`);
    return dest;
  } finally {
    await fs.rm(gobin, { recursive: true, force: true });
  }
}

export async function verifyCli(exe: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout } = await run(exe, ['--version'], { env, timeoutMs: MINUTE });
  if (!/temporal version/i.test(stdout)) {
    throw new Error(`${exe} --version printed ${JSON.stringify(stdout.trim())}, not a Temporal CLI version`);
  }
}
