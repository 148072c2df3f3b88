import { installDebianPackages, SYSTEM_DIRS } from './apt';
import { findExecutable } from './process';

const NAMES = ['chromium', 'chromium-browser'];

/**
 * Debian's Chromium, which the browser tests drive: its path, after installing the `chromium` package when
 * it is missing. Fonts come along so that screenshots show text.
 */
export async function ensureChromiumInstalled(log: (line: string) => void): Promise<string> {
  const found = findExecutable(NAMES, SYSTEM_DIRS);
  if (found) return found;
  await installDebianPackages(
    ['chromium', 'fonts-liberation'],
    'Chromium is not installed. Install it (Debian/Ubuntu: apt-get install chromium).',
    log,
  );
  const installed = findExecutable(NAMES, SYSTEM_DIRS);
  if (!installed) throw new Error('apt-get installed chromium, but no chromium executable was found');
  return installed;
}
