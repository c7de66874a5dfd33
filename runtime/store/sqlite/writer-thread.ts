/**
 * @module The store's one writer: a worker thread that owns the only writing connection and commits in groups.
 *
 * Group commit: every write that arrived while the previous transaction ran is taken at once, run in ONE
 * transaction (each command in its own savepoint, so a command that throws fails alone), committed with a
 * single fsync, and only then answered. There is no timer window: the next transaction starts as soon as
 * the previous one ends. Loaded through `writer-thread-boot.mjs` (see there why).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type Sqlite from 'better-sqlite3'
import { VersionConflict } from '../store.ts'
import { openWriterConnection } from './connection.ts'
import { migrate } from './migrate.ts'
import { prepareWrites, type RunWrite } from './writes.ts'
import type { FromWriter, ToWriter, WriteCommand, WriteFailure, WriteReply, WriterOptions } from './writer-protocol.ts'

interface PendingWrite {
  id: number
  command: WriteCommand
}

function failureOf(error: unknown, command?: WriteCommand): WriteFailure {
  const thrown = error instanceof Error ? error : new Error(String(error))
  const code = (thrown as { code?: unknown }).code
  return {
    name: thrown.name,
    message: thrown.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(thrown instanceof VersionConflict && command?.op === 'saveFlowVersion'
      ? { conflict: { flowId: command.document.id, attempted: command.document.version, latest: thrown.latest } }
      : {}),
  }
}

class GroupCommitWriter {
  private readonly queue: PendingWrite[] = []
  private scheduled = false
  private closing = false
  private transactions = 0
  private readonly begin: Sqlite.Statement
  private readonly commit: Sqlite.Statement
  private readonly rollback: Sqlite.Statement
  private readonly savepoint: Sqlite.Statement
  private readonly release: Sqlite.Statement
  private readonly rollbackToSavepoint: Sqlite.Statement

  constructor(
    private readonly db: Sqlite.Database,
    private readonly run: RunWrite,
    private readonly post: (message: FromWriter) => void,
  ) {
    // IMMEDIATE takes the write lock at BEGIN: a second process on the same file waits (busy timeout) there.
    this.begin = db.prepare('BEGIN IMMEDIATE')
    this.commit = db.prepare('COMMIT')
    this.rollback = db.prepare('ROLLBACK')
    this.savepoint = db.prepare('SAVEPOINT command')
    this.release = db.prepare('RELEASE command')
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO command')
  }

  receive(message: ToWriter): void {
    if (message.type === 'close') this.closing = true
    else this.queue.push({ id: message.id, command: message.command })
    // setImmediate, not a microtask: the port hands over every message already queued before the check
    // phase, so one batch takes all that arrived while the previous transaction was committing.
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.drain())
    }
  }

  private drain(): void {
    this.scheduled = false
    const batch = this.queue.splice(0)
    if (batch.length > 0) this.post({ type: 'committed', ...this.runBatch(batch) })
    if (this.closing && this.queue.length === 0) {
      this.db.close()
      this.post({ type: 'closed' })
    }
  }

  private runBatch(batch: PendingWrite[]): { transactions: number; replies: WriteReply[] } {
    const replies: WriteReply[] = []
    try {
      this.begin.run()
    } catch (error) {
      const failure = failureOf(error)
      return { transactions: this.transactions, replies: batch.map(({ id }) => ({ id, ok: false, failure })) }
    }
    for (const { id, command } of batch) {
      this.savepoint.run()
      try {
        const value = this.run(command)
        this.release.run()
        replies.push({ id, ok: true, value })
      } catch (error) {
        replies.push({ id, ok: false, failure: failureOf(error, command) })
        if (this.db.inTransaction) {
          this.rollbackToSavepoint.run()
          this.release.run()
        } else {
          // Some errors (disk full, I/O) make SQLite roll the whole transaction back: nothing of the batch
          // was written, so nothing of it may be reported done. The rest waits for the next batch.
          return this.abandon(batch, replies, failureOf(error))
        }
      }
    }
    try {
      this.commit.run()
      this.transactions += 1
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run()
      const failure = failureOf(error)
      return { transactions: this.transactions, replies: replies.map(({ id }) => ({ id, ok: false, failure })) }
    }
    return { transactions: this.transactions, replies }
  }

  private abandon(
    batch: PendingWrite[],
    replies: WriteReply[],
    failure: WriteFailure,
  ): { transactions: number; replies: WriteReply[] } {
    const failed: WriteReply[] = replies.map(({ id }) => ({ id, ok: false, failure }))
    this.queue.unshift(...batch.slice(replies.length))
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.drain())
    }
    return { transactions: this.transactions, replies: failed }
  }
}

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
