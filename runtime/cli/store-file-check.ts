/**
 * @module What `mapper backup` and `mapper restore` need to know about an SQLite file: whether it is a sound
 * Mapper store (integrity, schema version, what it holds) and whether another process has it open.
 */
import Sqlite from 'better-sqlite3'
import { BUSY_TIMEOUT_MS } from '../store/sqlite/connection.ts'
import { readMigrations } from '../store/sqlite/migrate.ts'

export interface StoreFileReport {
  /** `ok`, or what PRAGMA integrity_check found. */
  integrity: string
  schemaVersion: number
  /** The newest migration this runtime knows: a file beyond it was written by a newer runtime. */
  newestKnownVersion: number
  events: number
  flowVersions: number
  /** Secret values that are current (not rotated out). */
  secrets: number
  /** One current secret's ciphertext, to check a key against. */
  sampleCiphertext?: string
}

/** Opens the file read-only and reads what it holds; throws when it is not a Mapper store at all. */
export function inspectStoreFile(file: string): StoreFileReport {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  try {
    const count = (table: string, where = '') =>
      (db.prepare(`SELECT count(*) AS n FROM ${table} ${where}`).get() as { n: number }).n
    let schemaVersion: number
    try {
      schemaVersion =
        (db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null })
          .version ?? 0
    } catch {
      throw new Error(`${file} is not a Mapper store (no schema_migrations table)`)
    }
    const sample = db.prepare('SELECT ciphertext FROM secrets WHERE valid_until IS NULL LIMIT 1').get() as
      | { ciphertext: string }
      | undefined
    return {
      integrity: (db.pragma('integrity_check') as Array<{ integrity_check: string }>)
        .map((row) => row.integrity_check)
        .join('; '),
      schemaVersion,
      newestKnownVersion: readMigrations().at(-1)?.version ?? 0,
      events: count('events'),
      flowVersions: count('flow_versions'),
      secrets: count('secrets', 'WHERE valid_until IS NULL'),
      ...(sample ? { sampleCiphertext: sample.ciphertext } : {}),
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_NOTADB') throw new Error(`${file} is not an SQLite database`)
    throw error
  } finally {
    db.close()
  }
}

/**
 * Whether another process has the database open, `mapper serve` above all. Every connection to a WAL database
 * holds a shared lock for as long as it is open, so an exclusive lock is refused while any other is open,
 * even an idle one; a process that died holds nothing (the OS drops its locks), so no stale pid file can
 * mislead. Locks are only as good as the file system's: not on network file systems.
 */
export function storeInUse(file: string): boolean {
  const db = new Sqlite(file, { fileMustExist: true, timeout: 0 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
    return false
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true
    throw error
  } finally {
    db.close()
  }
}
