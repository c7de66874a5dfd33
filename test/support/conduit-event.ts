/** @module Signed Conduit deliveries for tests that run `mapper serve` as a process: the flow, the event, the headers. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { readFlow } from './paths.ts'
import { stripeHeader } from './runtime-harness.ts'

export const CONDUIT_SECRET = 'whsec_serve_process_test_secret'
export const CONDUIT_HOOK_PATH = '/hooks/conduit/reports'

/** Environment a `mapper serve` of the conduit-reports flow needs (no downstream: run it with --no-workers). */
export const CONDUIT_ENV = {
  CONDUIT_WEBHOOK_SECRET: CONDUIT_SECRET,
  CRM_API_KEY: 'k',
  MAPPER_VAR_CRM_BASE_URL: 'http://127.0.0.1:9',
  MAPPER_LOG_LEVEL: 'warn',
}

/**
 * Writes `<dir>/<folder>/conduit-reports.flow.json` (folder `flows` by default) with a rate limit no burst
 * reaches, and with `fastRetries` http retries within 1.5 s; returns the flows directory.
 */
export function writeConduitFlow(dir: string, options: { folder?: string; fastRetries?: boolean } = {}): string {
  const flowsDir = join(dir, options.folder ?? 'flows')
  mkdirSync(flowsDir, { recursive: true })
  const flow = structuredClone(readFlow('conduit-reports')) as FlowDocument
  flow.trigger.rateLimit = { perSecond: 100_000, burst: 100_000 }
  if (options.fastRetries)
    for (const node of flow.nodes) if (node.kind === 'http') node.config.retry = { delaysMs: [0, 100, 200, 400, 800] }
  writeFileSync(join(flowsDir, 'conduit-reports.flow.json'), canonicalJson(flow))
  return flowsDir
}

/** A report.completed event, unique by `tag`: its raw body and the signed headers to send it with. */
export function conduitDelivery(tag: string): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    id: `evt_${tag}`,
    type: 'report.completed',
    createdAt: '2026-01-17T12:05:00.000Z',
    data: { jobId: `job-${tag}`, reportId: `rep-${tag}`, status: 'completed' },
  })
  return {
    body,
    headers: { 'content-type': 'application/json', 'conduit-signature': stripeHeader(CONDUIT_SECRET, body) },
  }
}
