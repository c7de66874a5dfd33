/**
 * @module The SQLite side of `mapper backup`: SQLite's online backup API copies the live store in one read
 * transaction (a snapshot), beside the runtime's writer; the copy is checked before it takes the target name.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import Sqlite from 'better-sqlite3'
import { SECRET_KEY_ENV } from '../secrets/secret-cipher.ts'
import { BUSY_TIMEOUT_MS, DATABASE_FILE } from '../store/sqlite/connection.ts'
import { inspectStoreFile, type StoreFileReport } from './store-file-check.ts'

/** Where `mapper serve` keeps the secret-encryption key when MAPPER_SECRET_KEY is unset (secret-cipher.ts). */
export const SECRET_KEY_FILE = 'secret.key'

/** Pages per backup step: all of them, so the copy is one snapshot rather than restarted by every commit. */
const ALL_PAGES = 0x7fff_ffff

export interface BackupReport extends StoreFileReport {
  file: string
  bytes: number
  source: string
  /** When the snapshot was read: every commit before it is in the backup. */
  snapshotAt: string
  ms: number
}

export async function backupSqliteStore(dir: string, out: string, force: boolean): Promise<BackupReport> {
  const source = resolve(dir, DATABASE_FILE)
  const target = resolve(out)
  if (!existsSync(source)) throw new Error(`no store in ${dir} (give --data DIR as given to mapper serve)`)
  if (target === source || target.startsWith(`${source}-`)) throw new Error('--out must not be the live store')
  if (existsSync(target) && !force) throw new Error(`${out} exists: give --force to replace it`)
  if (!existsSync(dirname(target))) throw new Error(`${dirname(out)} does not exist`)

  // Written beside the target and renamed when complete and checked: --out never holds half a backup.
  const partial = `${target}.partial-${process.pid}`
  const started = performance.now()
  let snapshotAt = new Date()
  // A read-write connection that only reads: when no runtime is running, closing it as the last connection
  // folds the WAL back in and removes the -wal and -shm files it would otherwise leave behind.
  const db = new Sqlite(source, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  try {
    await db.backup(partial, {
      // Called after the first (empty) step: the next step copies every page inside one read transaction.
      progress: () => {
        snapshotAt = new Date()
        return ALL_PAGES
      },
    })
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  } finally {
    db.close()
  }
  try {
    selfContained(partial)
    const report = inspectStoreFile(partial)
    if (report.integrity !== 'ok') throw new Error(`the copy failed its integrity check: ${report.integrity}`)
    syncFile(partial)
    renameSync(partial, target)
    syncFile(dirname(target))
    return {
      file: target,
      bytes: statSync(target).size,
      source,
      snapshotAt: snapshotAt.toISOString(),
      ms: Math.round(performance.now() - started),
      ...report,
    }
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  }
}

/** The copy inherits the store's WAL mode; in rollback mode it is one file (serve turns WAL back on). */
function selfContained(file: string): void {
  const db = new Sqlite(file, { fileMustExist: true })
  try {
    db.pragma('journal_mode = DELETE')
  } finally {
    db.close()
  }
}

export function syncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function describeBackup(report: BackupReport, dir: string): string {
  const keyFile = join(dir, SECRET_KEY_FILE)
  const key = process.env[SECRET_KEY_ENV]
    ? `${SECRET_KEY_ENV} (set in this environment)`
    : existsSync(keyFile)
      ? keyFile
      : `${SECRET_KEY_ENV} or ${keyFile}`
  return [
    `backup: wrote ${report.file} (${formatBytes(report.bytes)}) from ${report.source} in ${report.ms} ms`,
    `  snapshot at ${report.snapshotAt}: ${count(report.events, 'event')}, ${count(report.flowVersions, 'flow version')}, ` +
      `${count(report.secrets, 'secret')}; schema version ${report.schemaVersion}; integrity ${report.integrity}`,
    `  secret values in it are encrypted with ${key}, which is NOT in the backup: keep a copy of the key`,
    `  apart from the backup; \`mapper restore\` checks it, and serve needs it beside the restored store.`,
  ].join('\n')
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** `1 event`, `2 events`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
