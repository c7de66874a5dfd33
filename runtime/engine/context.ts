/** @module The NodeContext a node runs with, built from the compiled flow, the event and the services. */
import type {
  ClaimResult,
  EventInfo,
  Lineage,
  NodeContext,
  OutboundRequest,
  OutboundResponse,
  SignatureCheck,
  SignatureVerdict,
  ValidationIssue,
} from '../model/node-kind.ts'
import type { StepErrorInfo } from '../model/step-error.ts'
import { renderTemplate } from '../model/template.ts'
import type { FlowNode, SecretRef } from '../model/types.ts'
import { fingerprint } from '../signatures/fingerprint.ts'
import { signDelivery, verifySignature } from '../signatures/index.ts'
import type { CompiledFlow } from './compile.ts'
import type { DedupeClaim, EngineEvent, EngineServices } from './types.ts'

export interface ContextInput {
  flow: CompiledFlow
  event: EngineEvent
  services: EngineServices
  node: FlowNode
  input: unknown
  error: StepErrorInfo | undefined
  attempt: number
  sideEffects: boolean
  /** Claims made by this run, handed to the store with the event. */
  claims: DedupeClaim[]
}

/** Fingerprints of secrets seen, so a verify step does not hash its secret on every request. */
const fingerprints = new Map<string, string>()

function fingerprintOf(secret: string): string {
  let known = fingerprints.get(secret)
  if (known === undefined) {
    known = fingerprint(secret)
    if (fingerprints.size > 1_000) fingerprints.clear()
    fingerprints.set(secret, known)
  }
  return known
}

/**
 * A class rather than an object of closures: the webhook path builds one per node per request, and
 * methods on a prototype cost nothing to create.
 */
class RunContext implements NodeContext {
  readonly node: FlowNode
  readonly input: unknown
  readonly error?: StepErrorInfo
  readonly event: EventInfo
  readonly headers: Record<string, string>
  readonly rawBody: string
  readonly sideEffects: boolean
  readonly attempt: number
  private readonly args: ContextInput

  constructor(args: ContextInput) {
    this.args = args
    this.node = args.node
    this.input = args.input
    if (args.error !== undefined) this.error = args.error
    this.event = {
      id: args.event.id,
      receivedAt: args.event.receivedAt,
      flowId: args.event.flowId,
      flowVersion: args.event.flowVersion,
    }
    this.headers = args.event.headers
    this.rawBody = args.event.rawBody
    this.sideEffects = args.sideEffects
    this.attempt = args.attempt
  }

  now(): number {
    return this.args.services.now()
  }

  evaluate(expression: string, value: unknown = this.input): Promise<unknown> {
    const nowMs = this.args.services.now()
    return this.args.flow.expression(expression).evaluate(value, {
      headers: this.headers,
      event: this.event,
      error: this.error,
      vars: this.args.services.vars,
      // A fixed clock per evaluation keeps golden scenarios and replays deterministic.
      now: () => new Date(nowMs).toISOString(),
      millis: () => nowMs,
    })
  }

  template(template: string, value: unknown = this.input): Promise<string> {
    return renderTemplate(template, (expression) => this.evaluate(expression, value), encodeURIComponent)
  }

  validate(schema: string | object, value: unknown): ValidationIssue[] {
    return this.args.flow.validate(schema, value)
  }

  async claim(key: string, ttlSec: number): Promise<ClaimResult> {
    const { services, event, claims } = this.args
    const scope = `${event.flowId}/${this.node.id}`
    const result = await services.claim(scope, key, ttlSec, event.id)
    if (result.claimed) {
      claims.push({ scope, key, ttlSec, expiresAt: new Date(services.now() + ttlSec * 1000).toISOString() })
    }
    return result
  }

  secret(ref: SecretRef): string[] {
    return this.args.services.secret(ref.ref)
  }

  verifySignature(check: SignatureCheck): SignatureVerdict {
    const verdict = verifySignature(check, {
      headers: this.headers,
      rawBody: this.rawBody,
      nowSec: Math.floor(this.args.services.now() / 1000),
    })
    if (!verdict.ok) return verdict
    const matched = check.secrets[verdict.secretIndex]
    return matched === undefined ? verdict : { ...verdict, fingerprint: fingerprintOf(matched) }
  }

  signPayload(
    scheme: 'stripe' | 'standard-webhooks',
    secret: string,
    body: string,
    header?: string,
  ): Record<string, string> {
    return signDelivery(scheme, secret, body, {
      ...(header === undefined ? {} : { header }),
      timestampSec: Math.floor(this.args.services.now() / 1000),
      id: `${this.event.id}:${this.node.id}`,
    })
  }

  fetch(request: OutboundRequest): Promise<OutboundResponse> {
    return this.args.services.fetch(request)
  }

  lineageOf(expression: string): Lineage {
    return this.args.flow.lineage(expression)
  }
}

export function createNodeContext(args: ContextInput): NodeContext {
  return new RunContext(args)
}
