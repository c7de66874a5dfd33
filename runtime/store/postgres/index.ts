/** @module The PostgreSQL store's public face: open it with openPostgresStore. */
export {
  DEFAULT_LEASE_MS,
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
  TOKEN_TOUCH_INTERVAL_MS,
} from './postgres-store.ts'
