/** @module What the engine takes and gives: events, messages between nodes, steps, and run results. */
import type { ClaimResult, Lineage, OutboundRequest, OutboundResponse } from '../model/node-kind.ts'
import type { StepErrorInfo } from '../model/step-error.ts'

export interface EngineEvent {
  id: string
  receivedAt: string
  flowId: string
  flowVersion: number
  /** Request headers, names lower-cased. */
  headers: Record<string, string>
  /** The body byte-exact as received, as UTF-8 text. */
  rawBody: string
  /** The parsed body, when already known (from the store); parsed from rawBody otherwise. */
  payload?: unknown
}

/** What travels along an edge. */
export interface Message {
  payload: unknown
  /** The error that sent this message out of an error port. */
  error?: StepErrorInfo
  /** The payload's fields traced back to the event's fields, across every transform so far. */
  lineage?: Lineage
}

/** A node to run from the durable queue, with the message that reaches it. */
export interface WorkStart {
  node: string
  message: Message
}

export interface Step {
  node: string
  kind: string
  phase: 'guard' | 'work'
  port: string | null
  attempt: number
  startedAt: string
  durationMs: number
  /**
   * The payload the node received. Left out when it is the very payload the step before handed on
   * (guard nodes pass one payload along): `restoreStepInputs` puts it back for readers.
   */
  input?: unknown
  output?: unknown
  error?: StepErrorInfo
  lineage?: Lineage
  request?: OutboundRequest
  response?: { status: number; body: unknown }
  note?: Record<string, unknown>
  /** Verify without request headers in a test run. */
  skipped?: boolean
}

export interface DedupeClaim {
  scope: string
  key: string
  ttlSec: number
  expiresAt: string
}

/** An error that left a node through an unwired error port: the event goes to the dead letters. */
export interface DeadLetter {
  node: string
  error: StepErrorInfo
  message: Message
}

export interface RetryDecision {
  node: string
  message: Message
  /** When the next attempt may start (epoch ms). */
  at: number
  nextAttempt: number
  error: StepErrorInfo
}

export interface Rejection {
  status: 400 | 401 | 422
  code: 'malformed_json' | 'invalid_signature' | 'schema_reject'
  message: string
  node?: string
  details?: unknown
}

/** The world as the engine reaches it; the runtime, test runs and replay each supply their own. */
export interface EngineServices {
  now(): number
  /** Claims a dedupe key for this event; a claim the store already holds is not ours. */
  claim(scope: string, key: string, ttlSec: number, eventId: string): Promise<ClaimResult>
  /** Every valid value of a secret, the newest first. */
  secret(name: string): string[]
  fetch(request: OutboundRequest): Promise<OutboundResponse>
  /** Non-secret deployment variables (`$vars` in expressions), such as a downstream's base URL. */
  vars: Record<string, string>
}

export interface RunOptions {
  /** False in test runs and previews: http nodes describe the request and send nothing. */
  sideEffects: boolean
  /** Skip verify nodes (test runs without request headers). */
  skipVerify?: boolean
}

export interface RunResult {
  steps: Step[]
  /** Set when the sender must be refused; nothing else happens then. */
  rejection?: Rejection
  /** The event that first claimed the dedupe key, when this one is a duplicate. */
  duplicateOf?: string
  claims: DedupeClaim[]
  /** Nodes left to run from the queue. */
  work: WorkStart[]
  deadLetters: DeadLetter[]
  retry?: RetryDecision
  /** A respond node's answer. */
  answer?: { status: number; body: unknown }
  /** Per transform node: its output fields traced back to the event's fields. */
  lineage: Record<string, Lineage>
  /** The parsed body (undefined when it could not be parsed). */
  payload?: unknown
}
