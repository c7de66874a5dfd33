/** @module The main thread's side of the writer: sends write commands to the writer thread and awaits their commit. */
import { Worker } from 'node:worker_threads'
import { VersionConflict } from '../store.ts'
import type {
  FromWriter,
  ToWriter,
  WriteCommand,
  WriteFailure,
  WriteOp,
  WriteResults,
  WriterOptions,
} from './writer-protocol.ts'

const WRITER_ENTRY = new URL('./writer-thread-boot.mjs', import.meta.url)

/** An error the writer reported for one command, rebuilt on this side. */
export class WriteFailed extends Error {
  readonly code: string | undefined
  constructor(failure: WriteFailure) {
    super(failure.message)
    this.name = failure.name
    this.code = failure.code
  }
}

function errorOf(failure: WriteFailure): Error {
  if (failure.conflict) {
    const { flowId, attempted, latest } = failure.conflict
    return new VersionConflict(flowId, attempted, latest)
  }
  return new WriteFailed(failure)
}

interface Waiting {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

export class WriterClient {
  private readonly waiting = new Map<number, Waiting>()
  private nextId = 1
  private committed = 0
  private broken: Error | undefined
  private closed: Promise<void> | undefined

  private constructor(
    private readonly worker: Worker,
    /** Migrations the writer applied when it started. */
    readonly migrationsApplied: string[],
  ) {
    worker.on('message', (message: FromWriter) => this.receive(message))
    // A reply this thread cannot read (structured clone gave up on it) names no write: every write waiting
    // then fails rather than waits forever, and the writer stays usable for the next ones.
    worker.on('messageerror', (error) => this.failWaiting(error))
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited (code ${code})`)))
    // An idle writer must not keep the process alive; a pending write must.
    worker.unref()
  }

  /** Starts the writer thread; resolves once it has opened and migrated the database. */
  static async start(options: WriterOptions): Promise<WriterClient> {
    // No inherited execArgv: the entry file sets up TypeScript itself, and a parent's flags (vitest's,
    // an inspector port) have no business in the writer.
    const worker = new Worker(WRITER_ENTRY, {
      workerData: options,
      execArgv: process.env.MAPPER_PROFILE_WRITER
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MAPPER_PROFILE_WRITER}`]
        : [],
    })
    let onMessage: (message: FromWriter) => void = () => {}
    let onError: (error: Error) => void = () => {}
    let onExit: (code: number) => void = () => {}
    const migrationsApplied = await new Promise<string[]>((resolve, reject) => {
      onMessage = (message) => {
        if (message.type === 'ready') resolve(message.migrationsApplied)
        else if (message.type === 'fatal') reject(new WriteFailed(message.failure))
        else reject(new Error(`the SQLite writer thread said ${message.type} before ready`))
      }
      onError = reject
      onExit = (code) => reject(new Error(`the SQLite writer thread exited (code ${code}) before ready`))
      worker.on('message', onMessage).on('error', onError).on('exit', onExit)
    })
      .catch(async (error: unknown) => {
        await worker.terminate()
        throw error
      })
      .finally(() => {
        // Only our own listeners: removeAllListeners() would also drop the ones Worker keeps for itself.
        worker.off('message', onMessage).off('error', onError).off('exit', onExit)
      })
    return new WriterClient(worker, migrationsApplied)
  }

  /** Transactions the writer has committed so far (as of the last answer received). */
  get transactions(): number {
    return this.committed
  }

  write<C extends WriteCommand>(command: C): Promise<WriteResults[C['op']]> {
    if (this.broken) return Promise.reject(this.broken)
    if (this.closed) return Promise.reject(new Error('the SQLite store is closed'))
    const id = this.nextId++
    const message: ToWriter = { type: 'write', id, command }
    return new Promise<WriteResults[WriteOp]>((resolve, reject) => {
      try {
        this.worker.postMessage(message)
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (this.waiting.size === 0) this.worker.ref()
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
    }) as Promise<WriteResults[C['op']]>
  }

  /** Lets every write already sent commit, then stops the writer (which closes its connection). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.broken) {
        void this.worker.terminate().then(() => resolve())
        return
      }
      this.worker.ref()
      this.worker.on('message', (message: FromWriter) => {
        if (message.type === 'closed') void this.worker.terminate().then(() => resolve())
      })
      this.worker.once('exit', () => resolve())
      this.worker.postMessage({ type: 'close' } satisfies ToWriter)
    })
    return this.closed
  }

  private receive(message: FromWriter): void {
    if (message.type !== 'committed') return
    this.committed = message.transactions
    for (const reply of message.replies) {
      const waiting = this.waiting.get(reply.id)
      if (!waiting) continue
      this.waiting.delete(reply.id)
      if (reply.ok) waiting.resolve(reply.value)
      else waiting.reject(errorOf(reply.failure))
    }
    if (this.waiting.size === 0 && !this.closed) this.worker.unref()
  }

  private fail(error: Error): void {
    this.broken ??= error
    this.failWaiting(error)
  }

  private failWaiting(cause: Error): void {
    const error = this.broken ?? new Error(`a reply from the SQLite writer could not be read: ${cause.message}`)
    for (const waiting of this.waiting.values()) waiting.reject(error)
    this.waiting.clear()
    if (!this.closed) this.worker.unref()
  }
}
