/**
 * Ingest throughput: signed conduit deliveries per second answered by three targets, one after another —
 * BASELINE (bare node:http: HMAC verify + JSON.parse + 202), MAPPER (`mapper serve` with the conduit flow:
 * verify, validate, dedupe, branch, durable commit, then 202, on the embedded SQLite store), MAPPER-PG (the
 * same on PostgreSQL), MAPPER-PG-X3 (three processes on one PostgreSQL database, the connections split
 * between them) and NODE-RED (http in → function verifying the HMAC + JSON.parse → http response 202).
 *
 *   npx tsx bench/ingest.ts [--duration 10] [--connections 50] [--runs 1] [--events 1000] [--fresh]
 *                           [--targets baseline,mapper,mapper-pg,mapper-pg-x3,node-red] [--warmup 2]
 *                           [--keep-rate-limit] [--out file.json] [--pg postgres://…/db]
 *                           [--driver wrk|autocannon]   (default: wrk when installed, else autocannon)
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startBaseline } from './lib/baseline.ts'
import { type Child, stopChild } from './lib/children.ts'
import {
  benchSecret,
  CONDUIT_PATH,
  checkVerifies,
  freshFrom,
  prepareConduitEvents,
  type SignedEvent,
} from './lib/events.ts'
import { cycle, type LoadResult, median, pickDriver, runLoadSpread } from './lib/load.ts'
import { acceptedCount, countEvents, serveAvailable, startMapper } from './lib/mapper.ts'
import { startMock } from './lib/mock.ts'
import { installNodeRed, startNodeRed } from './lib/node-red.ts'
import { freePort } from './lib/ports.ts'
import { createBenchDatabase, DEFAULT_PG_SERVER, postgresProblem } from './lib/postgres.ts'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    runs: { type: 'string', default: '1' },
    events: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '2' },
    targets: { type: 'string', default: 'baseline,mapper,mapper-pg,mapper-pg-x3,node-red' },
    pg: { type: 'string', default: DEFAULT_PG_SERVER },
    fresh: { type: 'boolean', default: false },
    'keep-rate-limit': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    out: { type: 'string' },
    driver: { type: 'string' },
  },
})

const durationSec = Number(args.duration)
const connections = Number(args.connections)
const runs = Math.max(1, Number(args.runs))
const eventCount = Number(args.events)
const warmupSec = Number(args.warmup)
const targets = new Set(args.targets.split(',').map((t) => t.trim()))
const driver = pickDriver(args.driver)
const secret = benchSecret()
const workDir = mkdtempSync(join(tmpdir(), 'mapper-bench-ingest-'))

interface TargetFigures {
  name: string
  runs: LoadResult[]
  rps: number
  p50: number
  p99: number
  non2xx: number
  byStatus: Record<string, number>
  note?: string
  skipped?: string
}

/** Fresh events wrk pre-generates for `sec` seconds: above any rate seen here (baseline peaks near 22k/s), ≤ ~200 MB. */
const freshToPrepare = (sec: number) => Math.min(30_000 * sec, 400_000)

/** A new distinct event per call, signed now. */
function freshEvents(): () => SignedEvent {
  const events = prepareConduitEvents(secret, 200)
  let i = 0
  return () => freshFrom(secret, events[i++ % events.length] as SignedEvent)
}

/** The deliveries of one run: the prepared set cycling, or (`--fresh`) a new distinct event per request. */
function deliveries(): { next: () => () => SignedEvent; prepare: number } {
  if (args.fresh) return { next: freshEvents, prepare: freshToPrepare(durationSec) }
  // Several processes get the same events cycling: what one accepted is a duplicate at the others.
  const events = prepareConduitEvents(secret, eventCount)
  return { next: () => cycle(events), prepare: eventCount }
}

function addStatuses(into: Record<string, number>, from: Record<string, number>): void {
  for (const [status, n] of Object.entries(from)) into[status] = (into[status] ?? 0) + n
}

async function measure(name: string, urls: string[]): Promise<{ figures: TargetFigures; answered202: number }> {
  let answered202 = 0
  for (const url of urls) answered202 += (await checkVerifies(url, secret)) === 202 ? 1 : 0
  if (warmupSec > 0) {
    const warm = await runLoadSpread(urls, {
      connections,
      durationSec: warmupSec,
      driver,
      next: freshEvents,
      prepare: freshToPrepare(warmupSec),
    })
    answered202 += warm.byStatus['202'] ?? 0
  }
  const results: LoadResult[] = []
  for (let run = 1; run <= runs; run++) {
    const result = await runLoadSpread(urls, { connections, durationSec, driver, ...deliveries() })
    answered202 += result.byStatus['202'] ?? 0
    results.push(result)
    const repeats = args.fresh && result.prepared ? Math.max(0, result.total - result.prepared) : 0
    console.log(
      `  ${name} run ${run}/${runs} (${result.driver}): ${result.rps.toFixed(0)} req/s  p50 ${result.p50} ms  ` +
        `p99 ${result.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}  ${JSON.stringify(result.byStatus)}` +
        `${repeats ? `  (${repeats} requests repeated an event: more than the ${result.prepared} prepared)` : ''}`,
    )
  }
  const byStatus: Record<string, number> = {}
  for (const r of results) addStatuses(byStatus, r.byStatus)
  const figures: TargetFigures = {
    name,
    runs: results,
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    non2xx: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
    byStatus,
  }
  return { figures, answered202 }
}

async function withChild<T>(start: () => Promise<Child>, body: () => Promise<T>): Promise<T> {
  const child = await start()
  try {
    return await body()
  } finally {
    await stopChild(child)
  }
}

async function benchBaseline(): Promise<TargetFigures> {
  const port = await freePort()
  return await withChild(
    () => startBaseline(port, { secret, workDir }),
    async () => (await measure('baseline', [`http://127.0.0.1:${port}${CONDUIT_PATH}`])).figures,
  )
}

/** Every 202 must be a stored accepted event: the figure is worthless otherwise. */
function durabilityNote(
  figures: TargetFigures,
  answered202: number,
  stored: Record<string, number>,
  calls: number,
): void {
  const accepted = acceptedCount(stored)
  const durable = accepted >= answered202
  figures.note =
    `durability: ${answered202} answered 202, ${accepted} accepted events stored ` +
    `(${durable ? 'OK: every 202 is a stored event' : 'FAIL: fewer stored events than 202s'}; ` +
    `rows by status ${JSON.stringify(stored)}; downstream calls ${calls})`
  if (!durable) process.exitCode = 1
}

async function benchMapper(): Promise<TargetFigures> {
  const serve = serveAvailable()
  if (!serve.ok) return skipped('mapper', `\`mapper serve\` is not available yet: ${serve.why}`)
  const mock = await startMock()
  const port = await freePort()
  try {
    const target = await startMapper({
      port,
      secret,
      downstream: mock.url,
      workDir,
      keepRateLimit: args['keep-rate-limit'],
      logLevel: args['log-level'],
    })
    try {
      const { figures, answered202 } = await measure('mapper', [`${target.url}${CONDUIT_PATH}`])
      durabilityNote(figures, answered202, countEvents(target.dataDir), mock.calls)
      return figures
    } finally {
      await stopChild(target.child)
    }
  } finally {
    await mock.close()
  }
}

/** `processes` runtimes on one fresh PostgreSQL database, the load split between them. */
async function benchMapperPostgres(name: string, processes: number): Promise<TargetFigures> {
  const serve = serveAvailable()
  if (!serve.ok) return skipped(name, `\`mapper serve\` is not available yet: ${serve.why}`)
  const problem = await postgresProblem(args.pg)
  if (problem) return skipped(name, problem)
  const database = await createBenchDatabase(args.pg)
  const mock = await startMock()
  const secretKey = randomBytes(32).toString('base64')
  const targets: Awaited<ReturnType<typeof startMapper>>[] = []
  try {
    // One after another: the first applies the migrations and loads the flow file.
    for (let n = 0; n < processes; n++) {
      targets.push(
        await startMapper({
          port: await freePort(),
          secret,
          downstream: mock.url,
          workDir,
          keepRateLimit: args['keep-rate-limit'],
          logLevel: args['log-level'],
          store: database.url,
          secretKey,
        }),
      )
    }
    const { figures, answered202 } = await measure(
      name,
      targets.map((t) => `${t.url}${CONDUIT_PATH}`),
    )
    durabilityNote(figures, answered202, await database.countEvents(), mock.calls)
    return figures
  } finally {
    for (const target of targets) await stopChild(target.child)
    await mock.close()
    await database.drop()
  }
}

async function benchNodeRed(): Promise<TargetFigures> {
  const install = installNodeRed()
  if ('error' in install) return skipped('node-red', `Node-RED skipped: ${install.error}`)
  const port = await freePort()
  return await withChild(
    () => startNodeRed(install.redJs, port, { secret, workDir }),
    async () => (await measure('node-red', [`http://127.0.0.1:${port}${CONDUIT_PATH}`])).figures,
  )
}

function skipped(name: string, why: string): TargetFigures {
  console.log(`  ${name}: ${why}`)
  return { name, runs: [], rps: 0, p50: 0, p99: 0, non2xx: 0, byStatus: {}, skipped: why }
}

function ratio(a: TargetFigures | undefined, b: TargetFigures | undefined): number | undefined {
  if (!a || !b || a.skipped || b.skipped || b.rps === 0) return undefined
  return a.rps / b.rps
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'yes' : 'NO'
}

function printSummary(all: TargetFigures[]): void {
  const by = (name: string) => all.find((f) => f.name === name && !f.skipped)
  console.log(
    `\n${'target'.padEnd(10)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}  non-2xx  statuses`,
  )
  for (const f of all) {
    if (f.skipped) {
      console.log(`${f.name.padEnd(10)} skipped: ${f.skipped}`)
      continue
    }
    console.log(
      `${f.name.padEnd(10)} ${f.rps.toFixed(0).padStart(8)} ${String(f.p50).padStart(7)} ${String(f.p99).padStart(7)}  ` +
        `${String(f.non2xx).padStart(7)}  ${JSON.stringify(f.byStatus)}`,
    )
    if (f.note) console.log(`           ${f.note}`)
  }
  const mapper = by('mapper')
  const overBaseline = ratio(mapper, by('baseline'))
  const overNodeRed = ratio(mapper, by('node-red'))
  console.log(
    `\nmapper / baseline: ${overBaseline?.toFixed(2) ?? 'n/a'}   mapper / node-red: ${overNodeRed?.toFixed(2) ?? 'n/a'}`,
  )
  for (const name of ['mapper-pg', 'mapper-pg-x3']) {
    const target = by(name)
    if (!target) continue
    const of = (other: string) => ratio(target, by(other))?.toFixed(2) ?? 'n/a'
    console.log(
      `${name} / baseline: ${of('baseline')}   ${name} / mapper (SQLite): ${of('mapper')}   ${name} / node-red: ${of('node-red')}`,
    )
  }
  console.log('targets:')
  console.log(`  ≥ 50 % of baseline ......... ${verdict(overBaseline === undefined ? undefined : overBaseline >= 0.5)}`)
  console.log(`  ≥ 2 × Node-RED ............. ${verdict(overNodeRed === undefined ? undefined : overNodeRed >= 2)}`)
  console.log(`  p99 < 20 ms ................ ${verdict(mapper ? mapper.p99 < 20 : undefined)}`)
}

async function main(): Promise<void> {
  console.log(
    `ingest bench: ${connections} connections, ${durationSec} s × ${runs} run(s) per target (+ ${warmupSec} s warm-up), ` +
      `${args.fresh ? 'a fresh distinct event per request' : `${eventCount} distinct signed events cycling`}, driver ${driver}`,
  )
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, node ${process.version}; ` +
      (driver === 'wrk'
        ? 'wrk (2 threads, events pre-generated, latency corrected for coordinated omission) shares the cores'
        : 'autocannon runs in this process and competes with the target for the same cores'),
  )
  const all: TargetFigures[] = []
  try {
    if (targets.has('baseline')) all.push(await benchBaseline())
    if (targets.has('mapper')) all.push(await benchMapper())
    if (targets.has('mapper-pg')) all.push(await benchMapperPostgres('mapper-pg', 1))
    if (targets.has('mapper-pg-x3')) all.push(await benchMapperPostgres('mapper-pg-x3', 3))
    if (targets.has('node-red')) all.push(await benchNodeRed())
  } catch (error) {
    console.error(`bench failed; logs kept in ${workDir}`)
    throw error
  }
  rmSync(workDir, { recursive: true, force: true })
  printSummary(all)
  if (args.out) {
    writeFileSync(
      args.out,
      `${JSON.stringify({ at: new Date().toISOString(), driver, durationSec, connections, runs, fresh: args.fresh, targets: all }, null, 2)}\n`,
    )
  }
}

await main()
