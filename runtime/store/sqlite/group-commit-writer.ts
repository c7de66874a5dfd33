/**
 * @module Group commit: the writer thread's loop, which runs every write that arrived meanwhile in ONE transaction.
 *
 * Every write that arrived while the previous transaction ran is taken at once, run in one transaction (a
 * command that throws fails alone, see `attempt`), committed with a single fsync, and only then answered.
 * There is no timer window: the next transaction starts as soon as the previous one ends.
 */
import type Sqlite from 'better-sqlite3'
import { VersionConflict } from '../store.ts'
import type { FromWriter, ToWriter, WriteCommand, WriteFailure, WriteReply } from './writer-protocol.ts'
import type { RunWrite } from './writes.ts'

/** What one batch answers: the writer's commit count and a reply per command. */
interface Committed {
  transactions: number
  replies: WriteReply[]
}

interface PendingWrite {
  id: number
  command: WriteCommand
}

export function failureOf(error: unknown, command?: WriteCommand): WriteFailure {
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

export class GroupCommitWriter {
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
  private readonly changes: Sqlite.Statement

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
    this.changes = db.prepare('SELECT total_changes()').pluck()
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

  private runBatch(batch: PendingWrite[]): Committed {
    const committed = this.attempt(batch, false)
    if (committed !== 'again') return committed
    // A command failed after writing part of itself and the transaction was rolled back: run the batch
    // again, this time each command in its own savepoint, so the failing one is undone alone.
    const isolated = this.attempt(batch, true)
    if (isolated === 'again') throw new Error('unreachable: an isolated batch is never run again')
    return isolated
  }

  /**
   * Runs a batch in one transaction. Savepoints isolate commands, but each costs a statement journal copy
   * of every page its command touches (measured: 65 µs per accept without, 130-180 µs with). So the batch
   * first runs without them: a command that throws before writing anything (a VersionConflict, a duplicate
   * event id) fails alone at no cost; one that throws after a partial write sends the batch round again.
   */
  private attempt(batch: PendingWrite[], isolated: boolean): Committed | 'again' {
    const replies: WriteReply[] = []
    try {
      this.begin.run()
    } catch (error) {
      const failure = failureOf(error)
      return { transactions: this.transactions, replies: batch.map(({ id }) => ({ id, ok: false, failure })) }
    }
    for (const { id, command } of batch) {
      if (isolated) this.savepoint.run()
      const before = isolated ? 0 : this.totalChanges()
      try {
        const value = this.run(command)
        if (isolated) this.release.run()
        replies.push({ id, ok: true, value })
      } catch (error) {
        const failed: WriteReply = { id, ok: false, failure: failureOf(error, command) }
        if (!this.db.inTransaction) {
          // Some errors (disk full, I/O) make SQLite roll the whole transaction back: nothing of the batch
          // was written, so nothing of it may be reported done. The rest waits for the next batch.
          return this.abandon(batch, [...replies, failed], failureOf(error))
        }
        if (isolated) {
          this.rollbackToSavepoint.run()
          this.release.run()
        } else if (this.totalChanges() !== before) {
          this.rollback.run()
          return 'again'
        }
        replies.push(failed)
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

  /** Rows changed by the statements completed so far (a failed statement undoes itself and adds nothing). */
  private totalChanges(): number {
    return this.changes.get() as number
  }

  private abandon(batch: PendingWrite[], replies: WriteReply[], failure: WriteFailure): Committed {
    const failed: WriteReply[] = replies.map(({ id }) => ({ id, ok: false, failure }))
    this.queue.unshift(...batch.slice(replies.length))
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.drain())
    }
    return { transactions: this.transactions, replies: failed }
  }
}
