/** @module In-process news of events and steps, for the admin API's server-sent events stream. */
import { EventEmitter } from 'node:events'
import type { Step } from '../engine/types.ts'
import type { EventStatus, StreamEventItem } from '../store/store.ts'

export interface EventNews extends StreamEventItem {
  /** Heard from another process on the same database (never relayed again). */
  relayed?: true
}

export interface StepNews {
  type: 'steps'
  eventId: string
  flowId: string
  /** Empty when relayed from another process: the event's steps are read by its id. */
  steps: Step[]
  status?: EventStatus
  /** Heard from another process on the same database (never relayed again). */
  relayed?: true
}

export type BusNews = EventNews | StepNews

export class EventBus {
  private readonly emitter = new EventEmitter()

  constructor() {
    this.emitter.setMaxListeners(1_000)
  }

  publish(news: BusNews): void {
    if (this.emitter.listenerCount('news') > 0) this.emitter.emit('news', news)
  }

  subscribe(listener: (news: BusNews) => void): () => void {
    this.emitter.on('news', listener)
    return () => this.emitter.off('news', listener)
  }

  /** The runtime is stopping: streams end now instead of holding the shutdown. */
  onClose(listener: () => void): () => void {
    this.emitter.once('close', listener)
    return () => this.emitter.off('close', listener)
  }

  close(): void {
    this.emitter.emit('close')
  }
}
