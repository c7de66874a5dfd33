/** @module The SQLite store's public face: open it with openSqliteStore. */
export {
  DEFAULT_LEASE_MS,
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
  TOKEN_TOUCH_INTERVAL_MS,
} from './sqlite-store.ts'
export type { WriterSettings } from './writer-protocol.ts'
