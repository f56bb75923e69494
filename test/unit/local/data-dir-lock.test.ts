import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirHolder, lockDataDir } from '../../../functions/local/data-dir-lock';

describe('the data folder lock', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lock-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('names the process that holds the folder until it gives it back', () => {
    const unlock = lockDataDir(dataDir);
    const held = dataDirHolder(dataDir);
    unlock();

    expect([held, dataDirHolder(dataDir), existsSync(join(dataDir, 'runtime.lock'))]).toEqual([process.pid, undefined, false]);
  });

  it('refuses a second holder, naming the first', () => {
    const unlock = lockDataDir(dataDir);
    try {
      expect(() => lockDataDir(dataDir)).toThrow(`is in use by a running runtime (process ${process.pid})`);
    } finally {
      unlock();
    }
  });

  it('takes over a lock left by a process that is gone', () => {
    // The id of a process that has exited: what a killed runtime leaves behind.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dataDir, 'runtime.lock'), `${gone}\n`);

    const before = dataDirHolder(dataDir);
    const unlock = lockDataDir(dataDir);
    const after = dataDirHolder(dataDir);
    unlock();

    expect([before, after]).toEqual([undefined, process.pid]);
  });
});
