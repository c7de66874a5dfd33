/** @module `mapper send`: what the answers were (by status, by error code, latency) and whether each was expected. */
import type { DeliveryOutcome } from './send-deliver.ts'
import type { SendScheme } from './send-target.ts'

export interface SendReport {
  url: string
  sent: number
  durationMs: number
  /** Deliveries per second achieved. */
  rate: number
  byStatus: Record<string, number>
  /** Error codes of 4xx/5xx answers, and network errors (which have no status). */
  byCode: Record<string, number>
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  /** The runtime's event ids from 2xx answers that were not duplicates (the payload id when the answer has none). */
  eventIds: string[]
  duplicatesSent: number
  tamperedSent: number
  /** Deliveries that got no HTTP answer. */
  networkErrors: number
  /** Answers (or failures) outside what was expected. */
  unexpected: number
  ok: boolean
  /** `--replay-from`: where the stored events came from, how many, and how many values were anonymised. */
  replay?: { from: string; events: number; anonymised: number }
}

export interface Expectation {
  scheme: SendScheme
  skewSec: number
  /** `--expect`: statuses such as `202`, `2xx`, `401`. */
  expect?: readonly string[]
}

function matches(status: number, pattern: string): boolean {
  const p = pattern.trim().toLowerCase()
  if (/^\dxx$/.test(p)) return Math.floor(status / 100) === Number(p[0])
  return Number(p) === status
}

/** An answer is expected when it is 2xx, or a 401 that tampering (of a signed body) or clock skew asked for. */
export function isExpected(outcome: DeliveryOutcome, expectation: Expectation): boolean {
  const { status } = outcome
  if (status === undefined) return false
  if (expectation.expect && expectation.expect.length > 0) return expectation.expect.some((p) => matches(status, p))
  const success = status >= 200 && status < 300
  if (outcome.tampered) {
    const bodySigned = expectation.scheme !== 'bearer' && expectation.scheme !== 'none'
    return bodySigned ? status === 401 : success || status === 401
  }
  return success || (expectation.skewSec !== 0 && status === 401)
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return round(sorted[rank] as number)
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

export function summarize(
  url: string,
  outcomes: readonly DeliveryOutcome[],
  durationMs: number,
  expectation: Expectation,
): SendReport {
  const byStatus: Record<string, number> = {}
  const byCode: Record<string, number> = {}
  const latencies: number[] = []
  const eventIds: string[] = []
  let unexpected = 0
  let networkErrors = 0
  for (const outcome of outcomes) {
    if (outcome.status === undefined) networkErrors++
    else {
      increment(byStatus, String(outcome.status))
      latencies.push(outcome.latencyMs)
    }
    if (outcome.code !== undefined) increment(byCode, outcome.code)
    if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300 && !outcome.duplicate) {
      const id = outcome.eventId ?? outcome.eventKey
      if (id !== undefined) eventIds.push(id)
    }
    if (!isExpected(outcome, expectation)) unexpected++
  }
  latencies.sort((a, b) => a - b)
  return {
    url,
    sent: outcomes.length,
    durationMs: round(durationMs),
    rate: durationMs > 0 ? round((outcomes.length * 1000) / durationMs) : 0,
    byStatus,
    byCode,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: round(latencies.at(-1) ?? 0),
    },
    eventIds,
    duplicatesSent: outcomes.filter((o) => o.duplicateOf !== undefined).length,
    tamperedSent: outcomes.filter((o) => o.tampered).length,
    networkErrors,
    unexpected,
    ok: unexpected === 0,
  }
}

function counts(map: Record<string, number>): string {
  const entries = Object.entries(map).sort(([a], [b]) => a.localeCompare(b))
  return entries.length === 0 ? '—' : entries.map(([key, n]) => `${key} ×${n}`).join('  ')
}

/** The summary a person reads. */
export function formatReport(report: SendReport): string {
  const { latencyMs: l } = report
  const extras = [
    report.duplicatesSent > 0 ? `${report.duplicatesSent} re-sent duplicates` : '',
    report.tamperedSent > 0 ? `${report.tamperedSent} tampered` : '',
  ].filter(Boolean)
  return [
    ...(report.replay
      ? [
          `replayed   ${report.replay.events} stored events from ${report.replay.from} (${report.replay.anonymised} values anonymised)`,
        ]
      : []),
    `sent       ${report.sent} deliveries to ${report.url}${extras.length ? ` (${extras.join(', ')})` : ''}`,
    `duration   ${(report.durationMs / 1000).toFixed(2)} s, ${report.rate.toFixed(1)} deliveries/s`,
    `answers    ${counts(report.byStatus)}${report.networkErrors ? `  no answer ×${report.networkErrors}` : ''}`,
    `errors     ${counts(report.byCode)}`,
    `latency    p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  max ${l.max} ms`,
    report.ok ? 'result     every answer was expected' : `result     ${report.unexpected} unexpected answer(s)`,
  ].join('\n')
}
