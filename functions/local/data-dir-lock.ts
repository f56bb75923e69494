import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'runtime.lock';

/** Whether a process of that id runs: signal 0 checks without signalling. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The process id of the runtime that holds `dataDir`, if one runs. The embedded PostgreSQL takes
 * one process at a time: a second opener (a tool, or a second `npm start`) would corrupt it or
 * read it half-written.
 */
export function dataDirHolder(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dataDir, LOCK_FILE), 'utf8'), 10);
  } catch {
    return undefined;
  }
  // A lock left by a runtime that was killed names a process that is gone: no holder.
  return Number.isInteger(pid) && pid > 0 && running(pid) ? pid : undefined;
}

/** Takes `dataDir` for this process; answers the release. Refuses, naming the holder, while another runtime holds it. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const holder = dataDirHolder(dataDir);
  if (holder !== undefined) {
    throw new Error(`DATA_DIR ${dataDir} is in use by a running runtime (process ${holder}): stop it first, or point DATA_DIR at another folder`);
  }
  const path = join(dataDir, LOCK_FILE);
  rmSync(path, { force: true });
  try {
    // Exclusive: of two runtimes starting at once, one gets the folder.
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    throw new Error(`DATA_DIR ${dataDir} is being taken by another runtime: stop it first, or point DATA_DIR at another folder`);
  }
  return () => rmSync(path, { force: true });
}
