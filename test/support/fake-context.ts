/**
 * @module A NodeContext for running one node kind directly: real JSONata, real ajv, real signatures; claims in
 * memory, secrets from a map, a scripted downstream and a fixed clock.
 */
import type { ValidateFunction } from 'ajv'
import jsonata from 'jsonata'
import { deriveLineage } from '../../runtime/engine/lineage.ts'
import { schemaDirectory } from '../../runtime/files/schema-directory.ts'
import { createAjv, toValidationIssues } from '../../runtime/model/ajv.ts'
import type { NodeContext, OutboundRequest, OutboundResponse } from '../../runtime/model/node-kind.ts'
import { renderTemplate } from '../../runtime/model/template.ts'
import { signDelivery, verifySignature } from '../../runtime/signatures/index.ts'
import { SCHEMAS_DIR } from './paths.ts'

/** The clock every fake context starts with unless `now` is overridden. */
export const FAKE_NOW_MS = Date.parse('2026-01-17T12:05:03.000Z')

/** What the context's world holds; share `claims` between two contexts to see a duplicate. */
export interface FakeWorld {
  /** Secret name → every valid value, the newest first. */
  secrets?: Record<string, string[]>
  /** `$vars` in expressions. */
  vars?: Record<string, string>
  /** Downstream answers in order; the last one repeats. A thrown Error stands for a network failure. */
  downstream?: Array<Partial<OutboundResponse> | Error>
  /** `<node id>\u0000<key>` → the event that holds the claim. */
  claims?: Map<string, string>
}

export interface FakeNodeContext extends NodeContext {
  /** Every request the node sent through `fetch`. */
  requests: OutboundRequest[]
  claims: Map<string, string>
}

const ajv = createAjv()
const schemas = schemaDirectory(SCHEMAS_DIR)
// Every schemas/ file under its reference, so that `$ref: "conduit/report.completed.v1"` resolves as in the runtime.
for (const ref of schemas.refs()) {
  const schema = schemas.load(ref)
  if (schema) ajv.addSchema(schema, ref)
}
const validators = new Map<string, ValidateFunction>()

/** Compiles a schema once: a reference is compiled from its file, like the runtime does, so its `$ref`s resolve from the root. */
function validatorFor(schema: string | object): ValidateFunction {
  const key = typeof schema === 'string' ? schema : JSON.stringify(schema)
  let validator = validators.get(key)
  if (!validator) {
    const resolved = typeof schema === 'string' ? schemas.load(schema) : schema
    if (!resolved) throw new Error(`no schema "${key}" under schemas/`)
    // A copy: ajv caches by object, and the original is registered under its key, which would become its base URI.
    validator = ajv.compile(structuredClone(resolved))
    validators.set(key, validator)
  }
  return validator
}

export function fakeContext(
  overrides: Partial<NodeContext> & { input?: unknown } = {},
  world: FakeWorld = {},
): FakeNodeContext {
  const requests: OutboundRequest[] = []
  const claims = world.claims ?? new Map<string, string>()
  const answers = world.downstream ?? [{ status: 200, body: '{}' }]
  const node = overrides.node ?? { id: 'node', kind: 'test', config: {} }
  const input = overrides.input
  const event = overrides.event ?? {
    id: 'evt-1',
    receivedAt: new Date(FAKE_NOW_MS).toISOString(),
    flowId: 'test-flow',
    flowVersion: 1,
  }
  const headers = overrides.headers ?? {}
  const rawBody = overrides.rawBody ?? (input === undefined ? '' : JSON.stringify(input))
  const now = overrides.now ?? (() => FAKE_NOW_MS)
  const error = overrides.error

  const evaluate = async (expression: string, value: unknown = input) => {
    const nowMs = now()
    return jsonata(expression).evaluate(value, {
      headers,
      event,
      error,
      vars: world.vars ?? { CRM_BASE_URL: 'https://crm.test' },
      now: () => new Date(nowMs).toISOString(),
      millis: () => nowMs,
    })
  }

  return {
    node,
    input,
    event,
    headers,
    rawBody,
    sideEffects: true,
    attempt: 1,
    now,
    evaluate,
    template: (template, value = input) => renderTemplate(template, (e) => evaluate(e, value), encodeURIComponent),
    validate(schema, value) {
      const check = validatorFor(schema)
      return check(value) ? [] : toValidationIssues(check.errors)
    },
    async claim(key) {
      const id = `${node.id}\u0000${key}`
      const first = claims.get(id)
      if (first !== undefined) return { claimed: false, firstEventId: first }
      claims.set(id, event.id)
      return { claimed: true }
    },
    secret: (ref) => world.secrets?.[ref.ref] ?? [],
    verifySignature: (check) => verifySignature(check, { headers, rawBody, nowSec: Math.floor(now() / 1000) }),
    signPayload: (scheme, secret, body, header) =>
      signDelivery(scheme, secret, body, {
        ...(header === undefined ? {} : { header }),
        timestampSec: Math.floor(now() / 1000),
        id: `${event.id}:${node.id}`,
      }),
    async fetch(request) {
      const answer = answers[Math.min(requests.length, answers.length - 1)]
      requests.push(request)
      if (answer instanceof Error) throw answer
      return { status: answer?.status ?? 200, headers: answer?.headers ?? {}, body: answer?.body ?? '' }
    },
    lineageOf: (expression) => deriveLineage(expression),
    ...overrides,
    requests,
    claims,
  }
}
