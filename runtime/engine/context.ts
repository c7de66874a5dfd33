/** @module Builds the NodeContext a node runs with, from the compiled flow, the event and the services. */
import type { NodeContext } from '../model/node-kind.ts'
import type { StepErrorInfo } from '../model/step-error.ts'
import { renderTemplate } from '../model/template.ts'
import type { FlowNode } from '../model/types.ts'
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

export function createNodeContext(args: ContextInput): NodeContext {
  const { flow, event, services, node, input } = args
  const eventInfo = {
    id: event.id,
    receivedAt: event.receivedAt,
    flowId: event.flowId,
    flowVersion: event.flowVersion,
  }
  const evaluate = async (expression: string, value: unknown = input) => {
    const nowMs = services.now()
    return flow.expression(expression).evaluate(value, {
      headers: event.headers,
      event: eventInfo,
      error: args.error,
      vars: services.vars,
      // A fixed clock per evaluation keeps golden scenarios and replays deterministic.
      now: () => new Date(nowMs).toISOString(),
      millis: () => nowMs,
    })
  }
  return {
    node,
    input,
    ...(args.error === undefined ? {} : { error: args.error }),
    event: eventInfo,
    headers: event.headers,
    rawBody: event.rawBody,
    sideEffects: args.sideEffects,
    attempt: args.attempt,
    now: () => services.now(),
    evaluate,
    template: (template, value = input) => renderTemplate(template, (e) => evaluate(e, value), encodeURIComponent),
    validate: (schema, value) => flow.validate(schema, value),
    async claim(key, ttlSec) {
      const scope = `${event.flowId}/${node.id}`
      const result = await services.claim(scope, key, ttlSec, event.id)
      if (result.claimed) {
        const expiresAt = new Date(services.now() + ttlSec * 1000).toISOString()
        args.claims.push({ scope, key, ttlSec, expiresAt })
      }
      return result
    },
    secret: (ref) => services.secret(ref.ref),
    verifySignature(check) {
      const verdict = verifySignature(check, {
        headers: event.headers,
        rawBody: event.rawBody,
        nowSec: Math.floor(services.now() / 1000),
      })
      const matched = verdict.ok ? check.secrets[verdict.secretIndex] : undefined
      return matched === undefined ? verdict : { ...verdict, fingerprint: fingerprint(matched) }
    },
    signPayload: (scheme, secret, body, header) =>
      signDelivery(scheme, secret, body, {
        ...(header === undefined ? {} : { header }),
        timestampSec: Math.floor(services.now() / 1000),
        id: `${event.id}:${node.id}`,
      }),
    fetch: (request) => services.fetch(request),
    lineageOf: (expression) => flow.lineage(expression),
  }
}
