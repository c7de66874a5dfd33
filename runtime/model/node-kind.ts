/** @module What a node kind declares (config schema, ports, phase) and the context its `run` sees. Browser-safe. */
import type { Static, TSchema } from '@sinclair/typebox'
import type { StepErrorInfo } from './step-error.ts'
import type { ErrorCategory, FlowNode, SecretRef } from './types.ts'

/** `guard` kinds may run before the sender is answered; `work` kinds always run from the durable queue. */
export type Phase = 'guard' | 'work'

export interface PortSpec {
  title?: string
  /** An error port: what leaves through it carries an error of one of these categories. */
  error?: readonly ErrorCategory[]
}
export type PortMap = Record<string, PortSpec>

/** The event as nodes see it. */
export interface EventInfo {
  id: string
  receivedAt: string
  flowId: string
  flowVersion: number
}

export type SignatureScheme = 'stripe' | 'standard-webhooks' | 'hmac' | 'bearer'

/** What a verify node asks of the runtime's signature checker. */
export interface SignatureCheck {
  scheme: SignatureScheme
  /** Header that carries the signature (lower-case); the scheme's default when absent. */
  header?: string
  /** Every secret currently valid, the newest first (several during a rotation). */
  secrets: string[]
  toleranceSec: number
  algorithm?: 'sha1' | 'sha256' | 'sha512'
  encoding?: 'hex' | 'base64'
  prefix?: string
}

export type SignatureVerdict =
  | {
      ok: true
      secretIndex: number
      timestamp?: number /** of the secret that matched, never the secret */
      fingerprint?: string
    }
  | {
      ok: false
      code: 'missing_header' | 'malformed_header' | 'stale_timestamp' | 'future_timestamp' | 'mismatch' | 'no_secret'
      reason: string
      timestamp?: number
    }

export interface ValidationIssue {
  path: string
  rule: string
  message: string
}

export interface ClaimResult {
  claimed: boolean
  /** The event that holds the claim when it was not ours. */
  firstEventId?: string
}

export interface OutboundRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
}

export interface OutboundResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Field lineage: output field path → the input field paths it was computed from (empty: computed from no input). */
export type Lineage = Record<string, string[]>

/** Everything a node's `run` may reach. The runtime, the test-run API and replay each supply their own. */
export interface NodeContext {
  node: FlowNode
  /** The payload as the previous node left it. */
  input: unknown
  /** The error that arrived through an error port, if this node sits behind one. */
  error?: StepErrorInfo
  event: EventInfo
  /** Request headers, names lower-cased. */
  headers: Record<string, string>
  /** The request body byte-exact as received, as UTF-8 text. */
  rawBody: string
  /** False in test runs and previews: effects are described, not performed. */
  sideEffects: boolean
  /** 1 for the first attempt of this node on this event. */
  attempt: number
  now(): number
  /** Evaluates a JSONata expression compiled for this flow version, on `input` by default. */
  evaluate(expression: string, input?: unknown): Promise<unknown>
  /** Replaces every `{{expr}}` in a template with the expression's value. */
  template(template: string, input?: unknown): Promise<string>
  /** Validates against a schema (a `schemas/` reference or inline), compiled for this flow version. */
  validate(schema: string | object, value: unknown): ValidationIssue[]
  claim(key: string, ttlSec: number): Promise<ClaimResult>
  secret(ref: SecretRef): string[]
  verifySignature(check: SignatureCheck): SignatureVerdict
  signPayload(
    scheme: 'stripe' | 'standard-webhooks',
    secret: string,
    body: string,
    header?: string,
  ): Record<string, string>
  fetch(request: OutboundRequest): Promise<OutboundResponse>
  /** Lineage of a transform expression, derived once per flow version. */
  lineageOf(expression: string): Lineage
}

export interface NodeResult {
  /** The port the payload leaves through; null ends the path (respond). */
  port: string | null
  /** The payload handed to the next node; the input when absent. */
  output?: unknown
  lineage?: Lineage
  /** For respond nodes: the answer to the caller. */
  answer?: { status: number; body: unknown }
  /** For http nodes: the request sent (or, without side effects, the request that would be sent). */
  request?: OutboundRequest
  /** For http nodes: the downstream answer. */
  response?: { status: number; body: unknown }
  /** Anything else worth showing in the step record, such as which secret matched. */
  note?: Record<string, unknown>
}

export interface NodeKind<S extends TSchema = TSchema> {
  kind: string
  title: string
  description: string
  phase: Phase
  /** Performs an effect in the world (http): runs only from the queue, one effect per work item. */
  effect?: boolean
  /** Colour used by the editor for this kind. */
  color: string
  config: S
  /** A config a new node of this kind starts with; it must pass `config`. */
  defaults: Static<S>
  /** The ports a node with this config has. */
  ports(config: Static<S>): PortMap
  /** Retry delays before attempts 2, 3, … when the node fails retriably (`delaysMs[i]` waits before attempt i + 1). */
  retryDelaysMs?(config: Static<S>): number[]
  /** Expressions and schemas to compile once per flow version, with the config field each came from. */
  compileTargets?(config: Static<S>): CompileTarget[]
  run(config: Static<S>, ctx: NodeContext): Promise<NodeResult>
}

export type CompileTarget =
  | { type: 'expression'; field: string; source: string }
  | { type: 'template'; field: string; source: string }
  | { type: 'schema'; field: string; schema: string | object }

export function defineNodeKind<S extends TSchema>(kind: NodeKind<S>): NodeKind<S> {
  return kind
}
