/**
 * @module The writer thread: opens and migrates the database, then hands every write to the group-commit loop.
 *
 * Loaded through `writer-thread-boot.mjs` (see there why).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type Sqlite from 'better-sqlite3'
import { openWriterConnection } from './connection.ts'
import { failureOf, GroupCommitWriter } from './group-commit-writer.ts'
import { migrate } from './migrate.ts'
import type { FromWriter, ToWriter, WriterOptions } from './writer-protocol.ts'
import { prepareWrites } from './writes.ts'

function start(): void {
  const port = parentPort
  if (!port) throw new Error('writer-thread runs as a worker thread only')
  const options = workerData as WriterOptions
  const post = (message: FromWriter) => port.postMessage(message)
  let db: Sqlite.Database
  let migrationsApplied: string[]
  try {
    db = openWriterConnection(options.file)
    migrationsApplied = migrate(db)
  } catch (error) {
    post({ type: 'fatal', failure: failureOf(error) })
    return
  }
  const writer = new GroupCommitWriter(db, prepareWrites(db), post)
  port.on('message', (message: ToWriter) => writer.receive(message))
  post({ type: 'ready', migrationsApplied })
}

start()
