/** @module The two kinds of SQLite connection the store opens: the one writer's, and the main thread's reader. */
import Sqlite from 'better-sqlite3'

/** The database file inside the store's directory. */
export const DATABASE_FILE = 'mapper.db'

/** The writer's page cache (KiB): a group of a few thousand accepts stays in memory until its commit. */
export const WRITER_CACHE_KIB = 32 * 1024

/** How long a statement waits for another connection's lock (another process on the same file) before failing. */
export const BUSY_TIMEOUT_MS = 5_000

/**
 * The writer's connection. WAL lets readers run beside it; `synchronous = FULL` fsyncs the WAL on every
 * commit, so an acknowledged 202 survives a power loss (NORMAL would only survive a process crash).
 */
export function openWriterConnection(file: string): Sqlite.Database {
  const db = new Sqlite(file, { timeout: BUSY_TIMEOUT_MS })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.pragma(`cache_size = -${WRITER_CACHE_KIB}`)
  // Savepoint journals (see writer-thread.ts) stay in memory rather than in temporary files.
  db.pragma('temp_store = MEMORY')
  return db
}

/** A read-only connection: in WAL mode it reads the last commit and never blocks (or waits for) the writer. */
export function openReaderConnection(file: string): Sqlite.Database {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  db.pragma('foreign_keys = ON')
  return db
}
