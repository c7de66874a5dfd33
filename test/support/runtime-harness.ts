/** @module Starts a real runtime for a test: a temp data dir, real SQLite, real HTTP on 127.0.0.1. */
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { type Runtime, type RuntimeOptions, startRuntime } from '../../runtime/server/runtime.ts'
import { openStore } from '../../runtime/store/open-store.ts'
import { readFlow, SCHEMAS_DIR } from './paths.ts'

export const ADMIN_TOKEN = 'test-admin-token'

export interface TestRuntime {
  url: string
  runtime: Runtime
  dataDir: string
  logFile: string
  post(
    path: string,
    body: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>
  api(path: string): Promise<any>
  /** Any admin API call, with the admin token unless another is given; never throws on a status. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>
  stop(): Promise<void>
}

export async function startTestRuntime(options: {
  flows: Array<FlowDocument | string>
  secrets?: Record<string, string[]>
  vars?: Record<string, string>
  runtime?: Partial<RuntimeOptions>
}): Promise<TestRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mapper-it-'))
  const flowsDir = join(dataDir, 'flows')
  mkdirSync(flowsDir)
  for (const flow of options.flows) {
    const doc = (typeof flow === 'string' ? readFlow(flow) : flow) as FlowDocument
    writeFileSync(join(flowsDir, `${doc.id}.flow.json`), canonicalJson(doc))
  }
  const logFile = join(dataDir, 'runtime.log')
  const store = await openStore(undefined, dataDir)
  const runtime = await startRuntime({
    store,
    flowsDir,
    schemasDir: SCHEMAS_DIR,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true })),
    secrets: (name) => options.secrets?.[name] ?? [],
    vars: options.vars ?? {},
    adminToken: ADMIN_TOKEN,
    dataDir,
    ...options.runtime,
  })
  let stopped = false
  return {
    url: runtime.url,
    runtime,
    dataDir,
    logFile,
    async post(path, body, headers = {}) {
      const response = await fetch(`${runtime.url}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
    },
    async api(path) {
      const response = await fetch(`${runtime.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
      return response.json()
    },
    async call(method, path, body, token = ADMIN_TOKEN) {
      const response = await fetch(`${runtime.url}/api${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null }
    },
    async stop() {
      if (stopped) return
      stopped = true
      await runtime.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A conduit-style signature made with node:crypto, independently of the product's signer. */
export function stripeHeader(secret: string, body: string, nowSec = Math.floor(Date.now() / 1000)): string {
  return `t=${nowSec},v1=${createHmac('sha256', secret).update(`${nowSec}.${body}`).digest('hex')}`
}

/** Polls until the event reaches a terminal status (or the given one). */
export async function waitForEvent(
  rt: TestRuntime,
  eventId: string,
  statuses: string[] = ['completed', 'dead'],
  timeoutMs = 15_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const event = await rt.api(`/api/events/${eventId}`)
    if (statuses.includes(event.status)) return event
    if (Date.now() > deadline) throw new Error(`event ${eventId} is still ${event.status} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export function readLog(rt: TestRuntime): Array<Record<string, unknown>> {
  return readFileSync(rt.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}
