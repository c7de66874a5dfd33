/** @module Engine services for unit tests: a fixed clock, in-memory claims and secrets, a scripted downstream. */
import type { EngineServices } from '../../runtime/engine/types.ts'
import type { OutboundRequest, OutboundResponse } from '../../runtime/model/node-kind.ts'

export interface FakeServices extends EngineServices {
  requests: OutboundRequest[]
  claims: Map<string, string>
  clock: { ms: number }
}

export function fakeServices(
  options: {
    nowMs?: number
    secrets?: Record<string, string[]>
    vars?: Record<string, string>
    /** Answers in order; the last one repeats. A thrown Error stands for a network failure. */
    downstream?: Array<Partial<OutboundResponse> | Error>
  } = {},
): FakeServices {
  const requests: OutboundRequest[] = []
  const claims = new Map<string, string>()
  const clock = { ms: options.nowMs ?? Date.parse('2026-01-17T12:05:03.000Z') }
  const answers = options.downstream ?? [{ status: 200, body: '{}' }]
  return {
    requests,
    claims,
    clock,
    vars: options.vars ?? { CRM_BASE_URL: 'https://crm.test', APP_BASE_URL: 'https://app.test' },
    now: () => clock.ms,
    secret: (name) => options.secrets?.[name] ?? [],
    async claim(scope, key, _ttlSec, eventId) {
      const id = `${scope}\u0000${key}`
      const first = claims.get(id)
      if (first !== undefined) return { claimed: false, firstEventId: first }
      claims.set(id, eventId)
      return { claimed: true }
    },
    async fetch(request) {
      const answer = answers[Math.min(requests.length, answers.length - 1)]
      requests.push(request)
      if (answer instanceof Error) throw answer
      return { status: answer?.status ?? 200, headers: answer?.headers ?? {}, body: answer?.body ?? '' }
    },
  }
}
