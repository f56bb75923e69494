// The web app's build, run by `npm start` and the browser tests when the built app is older than
// its sources, and by `npm run build:web` always. Plain JavaScript: it runs before tsx does.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const BUILT = join(WEB, 'dist', 'index.html');
const SOURCES = [join(WEB, 'src'), join(WEB, 'index.html'), join(WEB, 'vite.config.mts'), join(ROOT, 'package-lock.json')];

function newestChange(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestChange(join(path, entry))));
}

export function webBuildIsCurrent() {
  return existsSync(BUILT) && statSync(BUILT).mtimeMs >= Math.max(...SOURCES.map(newestChange));
}

/** Builds the app into web/dist; `force` builds even when it is current. */
export async function buildWeb({ force = false, quiet = false } = {}) {
  if (!force && webBuildIsCurrent()) return false;
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.mts'), logLevel: quiet ? 'warn' : 'info' });
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildWeb({ force: process.argv.includes('--force') });
}
