/**
 * @module News between processes sharing one database: `pg_notify` inside the writing transaction (so it is
 * heard only if it commits), and one LISTEN connection per store that hands it to the subscribers.
 *
 * A NOTIFY is not free: PostgreSQL commits notifying transactions one at a time (a database-wide lock
 * held through the commit's flush), which measured here halved the accepts per second. So `work` news is
 * thinned out per store: at most one per WORK_NEWS_INTERVAL_MS, in whichever transaction comes first. That
 * loses nothing: the process that wrote the work runs it itself (it knows what it did), and idle workers
 * elsewhere look at the queue at least once a second anyway; the news only brings that forward.
 *
 * PostgreSQL keeps no notification for a connection that is not listening: whatever was sent before the
 * LISTEN (the first one, or one after a reconnect) is lost. So after each LISTEN the subscribers hear what
 * they may have missed, from the tables: one `work` (look at the queue) and the current deployments.
 */
import pg from 'pg'
import type { StoreNews } from '../store.ts'
import { APPLICATION_NAME, connectionConfig, type Queryable } from './connection.ts'

export const NEWS_CHANNEL = 'mapper_news'

/** Waits between attempts to listen again after the connection dropped: doubling from the first to the last. */
export const RECONNECT_FIRST_MS = 100
export const RECONNECT_MAX_MS = 5_000

/** At most one `work` notification per store in this time (ms); 0 announces in every transaction. */
export const WORK_NEWS_INTERVAL_MS = 20

/** Sends news when the caller's transaction commits. One call per transaction keeps the commit cheap. */
export async function announce(db: Queryable, news: StoreNews): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [NEWS_CHANNEL, JSON.stringify(news)])
}

/** The news in a notification's payload; undefined for anything this runtime did not send (or a newer one). */
export function parseNews(payload: string | undefined): StoreNews | undefined {
  if (payload === undefined) return undefined
  let news: unknown
  try {
    news = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof news !== 'object' || news === null) return undefined
  const { kind, flowId, version } = news as Record<string, unknown>
  if (kind === 'work') return { kind }
  if (kind === 'deploy' && typeof flowId === 'string' && Number.isInteger(version)) {
    return { kind, flowId, version: version as number }
  }
  return undefined
}

/** A store's `work` announcements, thinned out to one per interval (see the module comment). */
export class WorkNews {
  private lastAt = Number.NEGATIVE_INFINITY

  constructor(private readonly intervalMs: number = WORK_NEWS_INTERVAL_MS) {}

  /** Announces work in the caller's transaction, unless this store did within the interval. */
  async announce(db: Queryable): Promise<void> {
    const now = performance.now()
    if (now - this.lastAt < this.intervalMs) return
    this.lastAt = now
    await announce(db, { kind: 'work' })
  }
}

export type NewsListener = (news: StoreNews) => void

/** One LISTEN connection, opened on the first subscriber, opened again whenever it drops, ended by close(). */
export class NewsChannel {
  private readonly listeners = new Set<NewsListener>()
  private client: pg.Client | undefined
  private listening: Promise<void> | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private nextDelayMs = RECONNECT_FIRST_MS
  private closed = false
  /** Clients already given up: a failing client emits 'error' and then 'end', and only the first counts. */
  private readonly given = new WeakSet<pg.Client>()

  constructor(
    private readonly url: string,
    /** What subscribers may have missed while no connection listened. */
    private readonly missed: () => Promise<StoreNews[]>,
  ) {}

  subscribe(listener: NewsListener): () => void {
    if (this.closed) throw new Error('the store is closed')
    this.listeners.add(listener)
    this.listening ??= this.listen()
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Resolves once a connection listens (for tests, and for callers that must not miss a notification). */
  async ready(): Promise<void> {
    while (this.client === undefined) {
      if (this.closed) throw new Error('the store is closed')
      if (this.listening === undefined) throw new Error('nothing subscribed: no connection listens')
      await this.listening
      if (this.client === undefined) await new Promise((resolve) => setTimeout(resolve, RECONNECT_FIRST_MS))
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.reconnectTimer)
    this.listeners.clear()
    const client = this.client
    this.client = undefined
    await this.listening?.catch(() => {})
    await client?.end().catch(() => {})
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(connectionConfig(this.url, `${APPLICATION_NAME} news`))
    client.on('notification', (message) => {
      const news = parseNews(message.payload)
      if (news) this.deliver(news)
    })
    client.on('error', () => this.dropped(client))
    client.on('end', () => this.dropped(client))
    try {
      await client.connect()
      await client.query(`LISTEN ${NEWS_CHANNEL}`)
    } catch {
      this.dropped(client)
      return
    }
    if (this.closed) {
      await client.end().catch(() => {})
      return
    }
    this.client = client
    this.nextDelayMs = RECONNECT_FIRST_MS
    const missed = await this.missed().catch(() => [{ kind: 'work' } as const])
    for (const news of missed) this.deliver(news)
  }

  /** Forgets a connection that failed or ended, and listens again after a while unless the store is closing. */
  private dropped(client: pg.Client): void {
    if (this.given.has(client)) return
    this.given.add(client)
    if (this.client === client) this.client = undefined
    client.removeAllListeners('notification')
    client.end().catch(() => {})
    if (this.closed) return
    const delay = this.nextDelayMs
    this.nextDelayMs = Math.min(RECONNECT_MAX_MS, this.nextDelayMs * 2)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (!this.closed) this.listening = this.listen()
    }, delay)
    this.reconnectTimer.unref()
  }

  private deliver(news: StoreNews): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(news)
      } catch (error) {
        // A subscriber's bug must surface as its own, not break this connection's reading.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
