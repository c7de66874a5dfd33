/**
 * @module `mapper restore FILE --data DIR`: puts a `mapper backup` file in place as the data directory's store.
 * Only into a stopped directory: it refuses while any process has the store open, and keeps a store it
 * replaces (with --force) beside it rather than deleting it. It checks the secret key the runtime will use.
 */
import { Command, Option } from 'commander'
import { NOT_THIS_WAY_EXIT, sqliteDirectory } from './backup.ts'

export const POSTGRES_RESTORE_WAY = `The PostgreSQL store is restored with PostgreSQL's own tools, every runtime stopped:

    pg_restore --no-owner --dbname="$MAPPER_STORE" mapper-….dump     (into an empty database)

or, from a base backup and archived WAL, a point-in-time recovery (recovery_target_time).
Start the runtimes with the MAPPER_SECRET_KEY the store was written with. See docs/production.md, "Backups".
`

interface RestoreOptions {
  data: string
  store?: string
  force?: boolean
  json?: boolean
}

export function restoreCommand(): Command {
  return new Command('restore')
    .description('restore a `mapper backup` file into a stopped data directory')
    .argument('<file>', 'the backup file written by mapper backup')
    .addOption(
      new Option('--data <dir>', 'data directory to restore into (as mapper serve will be given it)')
        .env('MAPPER_DATA')
        .default('.mapper'),
    )
    .addOption(new Option('--store <url>', 'store URL; postgres://… prints the PostgreSQL way').env('MAPPER_STORE'))
    .option('--force', 'replace the store the directory holds; it is kept beside as mapper.db.replaced-<time>')
    .option('--json', 'print what was restored as JSON')
    .action(async (file: string, options: RestoreOptions) => {
      try {
        const dir = sqliteDirectory(options.store, options.data)
        if (dir === undefined) {
          process.stderr.write(POSTGRES_RESTORE_WAY)
          process.exitCode = NOT_THIS_WAY_EXIT
          return
        }
        const { describeRestore, restoreSqliteStore } = await import('./sqlite-restore.ts')
        const report = restoreSqliteStore(file, dir, options.force === true)
        console.log(options.json ? JSON.stringify(report) : describeRestore(report, dir))
        if (report.secretKey && !report.secretKey.ok) console.error(`mapper restore: warning: ${report.secretKey.note}`)
      } catch (error) {
        console.error(`mapper restore: ${(error as Error).message}`)
        process.exitCode = 1
      }
    })
}
