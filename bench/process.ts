/**
 * End-to-end processing: N signed conduit events sent as fast as the target accepts them, timed until the
 * downstream mock (the "CRM", answering 200 at once) has received the call each event leads to. Compared
 * with Node-RED running the same guard and an http request node per event.
 *
 *   npx tsx bench/process.ts [--events 5000] [--concurrency 50] [--targets mapper,node-red] [--timeout 300] [--out file.json]
 *                            [--driver wrk|send]   (default: wrk when installed, else `mapper send`'s runSend in-process)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { runSend } from '../runtime/cli/send.ts'
import { type Child, stopChild } from './lib/children.ts'
import { benchSecret, CONDUIT_HEADER, CONDUIT_PATH, prepareConduitEvents } from './lib/events.ts'
import { cycle } from './lib/load.ts'
import { countEvents, serveAvailable, startMapper } from './lib/mapper.ts'
import { type DownstreamMock, startMock } from './lib/mock.ts'
import { installNodeRed, startNodeRed } from './lib/node-red.ts'
import { freePort } from './lib/ports.ts'
import { findWrk, runWrk } from './lib/wrk.ts'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '50' },
    targets: { type: 'string', default: 'mapper,node-red' },
    timeout: { type: 'string', default: '300' },
    'log-level': { type: 'string', default: 'warn' },
    out: { type: 'string' },
    driver: { type: 'string' },
  },
})

const eventCount = Number(args.events)
const concurrency = Number(args.concurrency)
const timeoutMs = Number(args.timeout) * 1000
const targets = new Set(args.targets.split(',').map((t) => t.trim()))
const driver = args.driver ?? (findWrk() ? 'wrk' : 'send')
if (driver !== 'wrk' && driver !== 'send') throw new Error(`--driver must be wrk or send, not ${driver}`)
if (driver === 'wrk' && !findWrk()) throw new Error('--driver wrk: wrk not found (apt-get install -y wrk)')
const secret = benchSecret()
const workDir = mkdtempSync(join(tmpdir(), 'mapper-bench-process-'))

interface ProcessFigures {
  name: string
  sent: number
  accepted: number
  byStatus: Record<string, number>
  /** Deliveries per second while sending (answer rate). */
  ingestRate: number
  ackP50: number
  ackP99: number
  /** Accepted events per second from the first send to the last downstream call. */
  endToEndRate: number
  /** Milliseconds from the last answer to the last downstream call. */
  lagMs: number
  downstreamCalls: number
  downstreamDistinct: number
  /** Highest mapper_queue_depth sampled every 250 ms (mapper only). */
  maxQueueDepth?: number
  complete: boolean
  note?: string
  skipped?: string
}

/** Samples `mapper_queue_depth` from /metrics every 250 ms until stopped; returns the highest value seen. */
function sampleQueueDepth(baseUrl: string): { stop: () => Promise<number | undefined> } {
  let running = true
  let max: number | undefined
  const loop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text()
        const line = /^mapper_queue_depth(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m.exec(text)
        if (line) max = Math.max(max ?? 0, Number(line[1]))
      } catch {
        // a missed sample
      }
      await sleep(250)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return max
    },
  }
}

interface Sent {
  sent: number
  byStatus: Record<string, number>
  rate: number
  p50: number
  p99: number
}

/** Prepares the deliveries (not timed), then returns what sends them: wrk, each once, or runSend in this process. */
function sender(url: string): () => Promise<Sent> {
  if (driver === 'wrk') {
    const events = prepareConduitEvents(secret, eventCount)
    return async () => {
      const r = await runWrk({
        url,
        connections: concurrency,
        durationSec: timeoutMs / 1000,
        timeoutSec: 30,
        next: cycle(events),
        prepare: events.length,
        once: true,
      })
      return { sent: r.total, byStatus: r.byStatus, rate: r.rps, p50: r.p50, p99: r.p99 }
    }
  }
  return async () => {
    const report = await runSend({
      url,
      scheme: 'stripe',
      header: CONDUIT_HEADER,
      secret,
      generate: 'conduit',
      count: eventCount,
      concurrency,
      timeoutMs: 30_000,
    })
    return { ...report, p50: report.latencyMs.p50, p99: report.latencyMs.p99 }
  }
}

async function runOne(name: string, baseUrl: string, mock: DownstreamMock): Promise<ProcessFigures> {
  mock.reset()
  const send = sender(`${baseUrl}${CONDUIT_PATH}`)
  const sampler = name === 'mapper' ? sampleQueueDepth(baseUrl) : undefined
  const started = performance.now()
  const report = await send()
  const acked = performance.now()
  const accepted = report.byStatus['202'] ?? 0
  const deadline = Date.now() + timeoutMs
  while (mock.distinct.size < accepted && Date.now() < deadline) await sleep(20)
  const maxQueueDepth = await sampler?.stop()
  const last = mock.lastAt ?? acked
  return {
    name,
    sent: report.sent,
    accepted,
    byStatus: report.byStatus,
    ingestRate: report.rate,
    ackP50: report.p50,
    ackP99: report.p99,
    endToEndRate: accepted / ((last - started) / 1000),
    lagMs: Math.max(0, last - acked),
    downstreamCalls: mock.calls,
    downstreamDistinct: mock.distinct.size,
    ...(maxQueueDepth === undefined ? {} : { maxQueueDepth }),
    complete: mock.distinct.size >= accepted,
  }
}

async function withTarget(
  name: string,
  start: (mock: DownstreamMock) => Promise<{ child: Child; url: string; after?: () => string }>,
): Promise<ProcessFigures> {
  const mock = await startMock()
  try {
    const target = await start(mock)
    try {
      const figures = await runOne(name, target.url, mock)
      if (target.after) figures.note = target.after()
      return figures
    } finally {
      await stopChild(target.child)
    }
  } finally {
    await mock.close()
  }
}

function skipped(name: string, why: string): ProcessFigures {
  console.log(`  ${name}: ${why}`)
  return {
    name,
    sent: 0,
    accepted: 0,
    byStatus: {},
    ingestRate: 0,
    ackP50: 0,
    ackP99: 0,
    endToEndRate: 0,
    lagMs: 0,
    downstreamCalls: 0,
    downstreamDistinct: 0,
    complete: false,
    skipped: why,
  }
}

async function benchMapper(): Promise<ProcessFigures> {
  const serve = serveAvailable()
  if (!serve.ok) return skipped('mapper', `\`mapper serve\` is not available yet: ${serve.why}`)
  return await withTarget('mapper', async (mock) => {
    const port = await freePort()
    const target = await startMapper({
      port,
      secret,
      downstream: mock.url,
      workDir,
      keepRateLimit: false,
      logLevel: args['log-level'],
    })
    return { ...target, after: () => `stored events by status: ${JSON.stringify(countEvents(target.dataDir))}` }
  })
}

async function benchNodeRed(): Promise<ProcessFigures> {
  const install = installNodeRed()
  if ('error' in install) return skipped('node-red', `Node-RED skipped: ${install.error}`)
  return await withTarget('node-red', async (mock) => {
    const port = await freePort()
    const child = await startNodeRed(install.redJs, port, { secret, downstream: mock.url, workDir })
    return { child, url: `http://127.0.0.1:${port}` }
  })
}

function print(all: ProcessFigures[]): void {
  for (const f of all) {
    if (f.skipped) {
      console.log(`\n${f.name}: skipped (${f.skipped})`)
      continue
    }
    console.log(`\n${f.name}`)
    console.log(`  answers            ${JSON.stringify(f.byStatus)} (${f.accepted} accepted of ${f.sent})`)
    console.log(
      `  ingest             ${f.ingestRate.toFixed(0)} deliveries/s, ack p50 ${f.ackP50} ms, p99 ${f.ackP99} ms`,
    )
    console.log(
      `  end to end         ${f.endToEndRate.toFixed(0)} events/s (first send → last downstream call)` +
        `${f.complete ? '' : `  INCOMPLETE: ${f.downstreamDistinct} of ${f.accepted} reached the mock`}`,
    )
    console.log(
      `  queue lag          ${(f.lagMs / 1000).toFixed(2)} s from the last answer to the last downstream call`,
    )
    if (f.maxQueueDepth !== undefined)
      console.log(`  max queue depth    ${f.maxQueueDepth} (mapper_queue_depth, sampled every 250 ms)`)
    console.log(`  downstream calls   ${f.downstreamCalls} (${f.downstreamDistinct} distinct Idempotency-Keys)`)
    if (f.note) console.log(`  ${f.note}`)
  }
  const mapper = all.find((f) => f.name === 'mapper' && !f.skipped)
  const nodeRed = all.find((f) => f.name === 'node-red' && !f.skipped)
  if (mapper && nodeRed) {
    console.log(
      `\nmapper / node-red end to end: ${(mapper.endToEndRate / nodeRed.endToEndRate).toFixed(2)}  ` +
        `(Node-RED keeps nothing: an event in flight when it stops is lost; mapper commits each before its 202)`,
    )
  }
}

async function main(): Promise<void> {
  console.log(
    `process bench: ${eventCount} events, ${concurrency} in flight, downstream mock answering 200, driver ${driver}`,
  )
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )}, node ${process.version}; ${driver === 'wrk' ? 'wrk and the mock' : 'sender and mock'} share the cores with the target`,
  )
  const all: ProcessFigures[] = []
  try {
    if (targets.has('mapper')) all.push(await benchMapper())
    if (targets.has('node-red')) all.push(await benchNodeRed())
  } catch (error) {
    console.error(`bench failed; logs kept in ${workDir}`)
    throw error
  }
  rmSync(workDir, { recursive: true, force: true })
  print(all)
  if (all.some((f) => !f.skipped && !f.complete)) process.exitCode = 1
  if (args.out) {
    writeFileSync(
      args.out,
      `${JSON.stringify({ at: new Date().toISOString(), driver, eventCount, concurrency, targets: all }, null, 2)}\n`,
    )
  }
}

await main()
