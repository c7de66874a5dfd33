/** @module The SQLite store's public face: open it with openSqliteStore. */
export { DEFAULT_LEASE_MS, openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts'
export type { WriterSettings } from './writer-protocol.ts'
