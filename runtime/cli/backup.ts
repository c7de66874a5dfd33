/**
 * @module `mapper backup --out FILE`: a consistent copy of the embedded SQLite store, taken while `mapper serve`
 * runs. The copy is one read transaction's snapshot: every event answered 202 before the backup began is in
 * it. WAL lets it read beside the runtime's writer without stopping it. PostgreSQL: its own tools (printed).
 */
import { Command, Option } from 'commander'

/** Exit code when the store is not one this command copies (PostgreSQL): the way to do it is printed instead. */
export const NOT_THIS_WAY_EXIT = 2

export const POSTGRES_BACKUP_WAY = `The PostgreSQL store is backed up with PostgreSQL's own tools, not with mapper backup:

  online, consistent (one snapshot), while the runtimes serve:
    pg_dump --format=custom --file=mapper-$(date -u +%Y%m%dT%H%M%SZ).dump "$MAPPER_STORE"

  restore into an empty database, with every runtime stopped:
    pg_restore --no-owner --dbname="$MAPPER_STORE" mapper-….dump

  point-in-time recovery: pg_basebackup plus WAL archiving (archive_command), then recovery_target_time.

Secret values are encrypted with MAPPER_SECRET_KEY: keep that value in your secret manager, apart from the
dumps. See docs/production.md, "Backups".
`

interface BackupOptions {
  out: string
  data: string
  store?: string
  force?: boolean
  json?: boolean
}

export function backupCommand(): Command {
  return new Command('backup')
    .description('write a consistent online backup of the embedded SQLite store while `mapper serve` runs')
    .requiredOption('--out <file>', 'the backup file to write (a single SQLite file)')
    .addOption(
      new Option('--data <dir>', 'data directory of the store (as given to mapper serve)')
        .env('MAPPER_DATA')
        .default('.mapper'),
    )
    .addOption(new Option('--store <url>', 'store URL; postgres://… prints the PostgreSQL way').env('MAPPER_STORE'))
    .option('--force', 'replace --out when it exists')
    .option('--json', 'print what was written as JSON')
    .action(async (options: BackupOptions) => {
      try {
        const dir = sqliteDirectory(options.store, options.data)
        if (dir === undefined) {
          process.stderr.write(POSTGRES_BACKUP_WAY)
          process.exitCode = NOT_THIS_WAY_EXIT
          return
        }
        // SQLite's native module is loaded only when there is an SQLite store to copy.
        const { backupSqliteStore, describeBackup } = await import('./sqlite-backup.ts')
        const report = await backupSqliteStore(dir, options.out, options.force === true)
        console.log(options.json ? JSON.stringify(report) : describeBackup(report, dir))
      } catch (error) {
        console.error(`mapper backup: ${(error as Error).message}`)
        process.exitCode = 1
      }
    })
}

/** The SQLite directory a `--store`/`--data` pair names (as openStore reads them), or undefined for PostgreSQL. */
export function sqliteDirectory(store: string | undefined, data: string): string | undefined {
  if (store === undefined || store === '') return data
  if (store.startsWith('sqlite:')) return store.slice('sqlite:'.length)
  if (/^postgres(ql)?:\/\//.test(store)) return undefined
  throw new Error(`--store ${store}: not a store URL this command knows (sqlite:DIR or postgres://…)`)
}
