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
 *
 * `stream` news (what a process's live stream told of) is not written with the data: its process collects
 * it and announces it now and then outside any transaction (server/store-news.ts), as many notifications
 * as it needs in one statement, each under PostgreSQL's payload limit. Its items travel as short arrays.
 */
import pg from 'pg'
import type { EventStatus, StoreNews, StreamItem } from '../store.ts'
import { APPLICATION_NAME, connectionConfig, type Queryable } from './connection.ts'

export const NEWS_CHANNEL = 'mapper_news'

/** Waits between attempts to listen again after the connection dropped: doubling from the first to the last. */
export const RECONNECT_FIRST_MS = 100
export const RECONNECT_MAX_MS = 5_000

/** At most one `work` notification per store in this time (ms); 0 announces in every transaction. */
export const WORK_NEWS_INTERVAL_MS = 20

/** PostgreSQL refuses a notification payload of 8,000 bytes or more. */
export const NOTIFY_PAYLOAD_MAX_BYTES = 7_999

/** Sends news when the caller's transaction commits. One call per transaction keeps the commit cheap. */
export async function announce(db: Queryable, news: StoreNews): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [NEWS_CHANNEL, JSON.stringify(news)])
}

/** Sends news at once from a connection outside any transaction: all its payloads in one statement, one commit. */
export async function announceNow(db: Queryable, news: StoreNews): Promise<void> {
  const payloads = newsPayloads(news)
  if (payloads.length === 0) return
  await db.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [NEWS_CHANNEL, payloads])
}

type EncodedItem =
  | ['e', string, string | null, number | null, EventStatus, string, number?]
  | ['s', string, string, EventStatus?]

function encodeItem(item: StreamItem): EncodedItem {
  if (item.type === 'steps')
    return item.status === undefined ? ['s', item.eventId, item.flowId] : ['s', item.eventId, item.flowId, item.status]
  const encoded: EncodedItem = ['e', item.eventId, item.flowId, item.flowVersion, item.status, item.at]
  if (item.answered !== undefined) encoded.push(item.answered)
  return encoded
}

const EVENT_STATUSES: ReadonlySet<unknown> = new Set<EventStatus>([
  'accepted',
  'processing',
  'completed',
  'dead',
  'rejected',
  'duplicate',
])

function decodeItem(value: unknown): StreamItem | undefined {
  if (!Array.isArray(value) || typeof value[1] !== 'string') return undefined
  const [type, eventId, flowId, a, b, c, d] = value as unknown[]
  if (type === 's' && typeof flowId === 'string' && (a === undefined || EVENT_STATUSES.has(a))) {
    return a === undefined
      ? { type: 'steps', eventId: eventId as string, flowId }
      : { type: 'steps', eventId: eventId as string, flowId, status: a as EventStatus }
  }
  if (
    type === 'e' &&
    (flowId === null || typeof flowId === 'string') &&
    (a === null || Number.isInteger(a)) &&
    EVENT_STATUSES.has(b) &&
    typeof c === 'string' &&
    (d === undefined || Number.isInteger(d))
  ) {
    const item: StreamItem = {
      type: 'event',
      eventId: eventId as string,
      flowId,
      flowVersion: a as number | null,
      status: b as EventStatus,
      at: c,
    }
    if (d !== undefined) item.answered = d as number
    return item
  }
  return undefined
}

/**
 * The notification payloads that carry this news: one, or for `stream` news as many as its items need to
 * stay under the payload limit (an item that alone would not fit is left out).
 */
export function newsPayloads(news: StoreNews): string[] {
  if (news.kind !== 'stream') return [JSON.stringify(news)]
  const head = `{"kind":"stream","from":${JSON.stringify(news.from)},"items":[`
  const tail = ']}'
  const room = NOTIFY_PAYLOAD_MAX_BYTES - Buffer.byteLength(head + tail)
  const payloads: string[] = []
  let batch: string[] = []
  let used = 0
  for (const item of news.items) {
    const encoded = JSON.stringify(encodeItem(item))
    const size = Buffer.byteLength(encoded)
    if (size > room) continue
    if (batch.length > 0 && used + 1 + size > room) {
      payloads.push(head + batch.join(',') + tail)
      batch = []
      used = 0
    }
    used += (batch.length > 0 ? 1 : 0) + size
    batch.push(encoded)
  }
  if (batch.length > 0) payloads.push(head + batch.join(',') + tail)
  return payloads
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
  const { kind, flowId, version, from, items } = news as Record<string, unknown>
  if (kind === 'work') return { kind }
  if (kind === 'stream' && typeof from === 'string' && Array.isArray(items)) {
    return { kind, from, items: items.map(decodeItem).filter((item) => item !== undefined) }
  }
  if (kind === 'deploy' && typeof flowId === 'string' && Number.isInteger(version)) {
    return { kind, flowId, version: version as number }
  }
  return undefined
}

/** A store's `work` announcements, thinned out to one per interval (see the module comment). */
export class WorkNews {
  private lastAt = Number.NEGATIVE_INFINITY

  constructor(private readonly intervalMs: number = WORK_NEWS_INTERVAL_MS) {}

  /**
   * Whether work news is due now (this store sent none within the interval), counting it as sent: for a
   * statement that sends it itself.
   */
  due(): boolean {
    const now = performance.now()
    if (now - this.lastAt < this.intervalMs) return false
    this.lastAt = now
    return true
  }

  /** Announces work in the caller's transaction, unless this store did within the interval. */
  async announce(db: Queryable): Promise<void> {
    if (this.due()) await announce(db, { kind: 'work' })
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
