/** @module The wrk load driver: signed deliveries pre-generated to a temp file, replayed by wrk-cycle.lua, output parsed. */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { SignedEvent } from './events.ts'
import type { LoadResult } from './load.ts'

const SCRIPT = join(import.meta.dirname, 'wrk-cycle.lua')
const THREADS = 2

/** /usr/bin/wrk, else the first `wrk` on PATH, else undefined. */
export function findWrk(): string | undefined {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)]
  return dirs.map((dir) => join(dir, 'wrk')).find((file) => existsSync(file))
}

/** A raw HTTP/1.1 POST of one delivery (what wrk.format would build, done here so the Lua init only splits). */
function rawRequest(url: URL, { body, headers }: SignedEvent): string {
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`]
  for (const [name, value] of Object.entries(headers))
    if (!/^(host|content-length)$/i.test(name)) lines.push(`${name}: ${value}`)
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body)
  return lines.join('\r\n')
}

/** Writes `count` deliveries from `next()` to `<prefix>.1` … `<prefix>.<threads>` (a block each), each ended by a NUL. */
function writeDeliveries(prefix: string, url: string, next: () => SignedEvent, count: number, threads: number): void {
  const target = new URL(url)
  for (let k = 0; k < threads; k++) {
    const fd = openSync(`${prefix}.${k + 1}`, 'w')
    try {
      const share = Math.floor((count * (k + 1)) / threads) - Math.floor((count * k) / threads)
      for (let i = 0; i < share; i += 1000) {
        const chunk = Array.from({ length: Math.min(1000, share - i) }, () => rawRequest(target, next()))
        writeSync(fd, `${chunk.join('\0')}\0`)
      }
    } finally {
      closeSync(fd)
    }
  }
}

export interface WrkOptions {
  url: string
  connections: number
  /** cycle: the run length; once: the longest to wait for every answer. */
  durationSec: number
  next: () => SignedEvent
  /** How many deliveries to take from `next()` before the run. */
  prepare: number
  /** Send each prepared delivery exactly once, and stop when all are answered (instead of cycling for durationSec). */
  once?: boolean
  timeoutSec?: number
  /** wrk threads (default 2: one per core here). */
  threads?: number
}

export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const wrk = findWrk()
  if (!wrk) throw new Error('wrk not found (apt-get install -y wrk), or pass --driver autocannon')
  const dir = mkdtempSync(join(tmpdir(), 'mapper-bench-wrk-'))
  try {
    const prefix = join(dir, 'deliveries')
    const threads = Math.max(1, Math.min(options.threads ?? THREADS, options.connections, options.prepare))
    writeDeliveries(prefix, options.url, options.next, options.prepare, threads)
    const args = ['-t', String(threads), '-c', String(options.connections), '-d', `${options.durationSec}s`]
    args.push('--timeout', `${options.timeoutSec ?? 10}s`, '--latency', '-s', SCRIPT, options.url)
    args.push('--', prefix, String(threads), options.once ? 'once' : 'cycle')
    const stdout = await spawnWrk(wrk, args, options.once ? threads : 0)
    return parseWrk(stdout)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs wrk; with `finishers` > 0, sends it SIGINT once that many threads printed "mapper-bench finished". */
function spawnWrk(wrk: string, args: string[], finishers: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const kill = () => child.kill('SIGKILL')
    process.once('exit', kill)
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (finishers > 0 && (out.match(/^mapper-bench finished/gm) ?? []).length >= finishers) child.kill('SIGINT')
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk
    })
    child.once('error', reject)
    child.once('close', (code) => {
      process.removeListener('exit', kill)
      if (code === 0 && out.includes('Requests/sec')) resolve(out)
      else reject(new Error(`wrk ${args.join(' ')} exited ${code}:\n${err}${out}`))
    })
  })
}

function parseWrk(out: string): LoadResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN)
  const byStatus: Record<string, number> = {}
  for (const [, status, n] of out.matchAll(/^mapper-bench status (\d+) (\d+)$/gm)) byStatus[String(status)] = Number(n)
  const [p50, , p99, max] = (/^mapper-bench latency_us (.+)$/m.exec(out)?.[1] ?? '')
    .split(' ')
    .map((us) => Number(us) / 1000)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = Object.entries(byStatus).reduce((sum, [s, n]) => sum + (s.startsWith('2') ? 0 : n), 0)
  const ms = (v: number | undefined) => Math.round((v ?? Number.NaN) * 100) / 100
  return {
    driver: 'wrk',
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(p50),
    p99: ms(p99),
    max: ms(max),
    total: num(/(\d+) requests in /),
    non2xx,
    errors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0, // like autocannon: timeouts included
    timeouts: socket ? Number(socket[4]) : 0,
    byStatus,
    prepared: num(/^mapper-bench sent \d+ prepared (\d+)$/m),
  }
}
