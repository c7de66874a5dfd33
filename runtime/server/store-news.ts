/**
 * @module What a runtime does with news from other processes on a shared store: a deploy refreshes the
 * registry (the next webhook takes the new version), new work wakes the idle worker, and stream news goes
 * onto the local bus, so an editor connected to any process hears of events every process took.
 *
 * Stream news is relayed in batches: each process collects what its own bus told and announces it at most
 * once per STREAM_RELAY_INTERVAL_MS, outside the write transactions (a NOTIFY in every accept halved the
 * accepts per second). The items carry ids, flow and status, not step bodies: readers fetch the event.
 *
 * Notifications can be missed while the listening connection reconnects, so a shared store also has the
 * registry re-read now and then; an idle worker already looks at the queue on its own (flow-worker.ts).
 */
import { randomUUID } from 'node:crypto'
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import type { Store, StreamItem } from '../store/store.ts'
import type { BusNews, EventBus } from './event-bus.ts'
import type { Logger } from './logger.ts'

/** How often a runtime on a shared store re-reads the deployed versions without being told. */
export const REGISTRY_RESYNC_MS = 10_000

/** A process announces its stream news at most this often (ms). */
export const STREAM_RELAY_INTERVAL_MS = 100

/** At most this many items per announcement; the oldest of more are not relayed (and a warning says so). */
export const STREAM_RELAY_MAX_ITEMS = 1_000

export interface StoreNewsDeps {
  store: Store
  registry: FlowRegistry
  wakeWorker: () => void
  bus: EventBus
  logger: Logger
}

/** Starts listening; the function returned stops it. Stores that only one process opens have no news. */
export function followStoreNews({ store, registry, wakeWorker, bus, logger }: StoreNewsDeps): () => void {
  if (!store.subscribe) return () => {}
  const stream = relayStream(store, bus, logger)
  let refreshing: Promise<void> | undefined
  const refresh = (why: string) => {
    refreshing ??= registry
      .refresh()
      .catch((err: unknown) => logger.error({ err, why }, 'reading the deployed flows failed'))
      .finally(() => {
        refreshing = undefined
      })
    return refreshing
  }
  const unsubscribe = store.subscribe((news) => {
    if (news.kind === 'work') wakeWorker()
    else if (news.kind === 'stream') stream.heard(news.from, news.items)
    else {
      logger.info({ flowId: news.flowId, flowVersion: news.version }, 'deploy seen')
      void refresh('deploy')
    }
  })
  const resync = setInterval(() => void refresh('resync'), REGISTRY_RESYNC_MS)
  resync.unref()
  return () => {
    clearInterval(resync)
    unsubscribe()
    stream.stop()
  }
}

interface StreamRelay {
  /** Publishes another process's items on the local bus, marked relayed. */
  heard(from: string, items: StreamItem[]): void
  /** Stops collecting and announces what is left. */
  stop(): void
}

function streamItem(news: BusNews): StreamItem {
  if (news.type === 'steps') {
    const { eventId, flowId, status } = news
    return status === undefined ? { type: 'steps', eventId, flowId } : { type: 'steps', eventId, flowId, status }
  }
  const { type, eventId, flowId, flowVersion, status, at, answered } = news
  return answered === undefined
    ? { type, eventId, flowId, flowVersion, status, at }
    : { type, eventId, flowId, flowVersion, status, at, answered }
}

function relayStream(store: Store, bus: EventBus, logger: Logger): StreamRelay {
  const announce = store.announce?.bind(store)
  const self = randomUUID()
  // One item per event and kind of news: a later one (a newer status, more steps) replaces the earlier.
  let pending = new Map<string, StreamItem>()
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    if (!announce || pending.size === 0) return
    let items = [...pending.values()]
    pending = new Map()
    if (items.length > STREAM_RELAY_MAX_ITEMS) {
      logger.warn({ dropped: items.length - STREAM_RELAY_MAX_ITEMS }, 'stream news not relayed to other processes')
      items = items.slice(-STREAM_RELAY_MAX_ITEMS)
    }
    announce({ kind: 'stream', from: self, items }).catch((err: unknown) =>
      logger.error({ err }, 'relaying stream news failed'),
    )
  }
  const stopCollecting = announce
    ? bus.subscribe((news) => {
        if (news.relayed) return
        const key = `${news.type} ${news.eventId}`
        pending.delete(key)
        pending.set(key, streamItem(news))
        if (!timer) {
          timer = setTimeout(flush, STREAM_RELAY_INTERVAL_MS)
          timer.unref()
        }
      })
    : () => {}
  return {
    heard(from, items) {
      if (from === self) return
      for (const item of items) {
        bus.publish(item.type === 'steps' ? { ...item, steps: [], relayed: true } : { ...item, relayed: true })
      }
    },
    stop() {
      stopCollecting()
      clearTimeout(timer)
      flush()
    },
  }
}
