import { findExecutable, run } from './process';

export const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

/**
 * Installs Debian packages with apt-get, as root or through sudo. Where neither can work, fails with
 * `manualStep`, which tells the user what to install themselves.
 */
export async function installDebianPackages(
  packages: string[],
  manualStep: string,
  log: (line: string) => void,
): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : findExecutable(['sudo'], SYSTEM_DIRS) ? ['sudo'] : undefined;
  if (!findExecutable(['apt-get'], SYSTEM_DIRS) || !sudo) throw new Error(manualStep);
  log(`installing ${packages.join(', ')} with apt-get (once)`);
  const apt = (...args: string[]) => {
    const [command, ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    return run(command!, rest, { log });
  };
  await apt('update', '-q');
  await apt('install', '-y', '-q', '--no-install-recommends', ...packages);
}
