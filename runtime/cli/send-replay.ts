/**
 * @module `mapper send --replay-from`: stored production payloads, read from a runtime's store (its data
 * directory or store URL) or from a JSON-lines export, anonymised by the flow's `retention.redact` paths.
 *
 * The export format (`--export-to FILE`), one JSON object per line:
 * `{"format":"mapper-event/1","eventId","flowId","flowVersion","receivedAt","body","anonymised":true}`,
 * `body` being the raw body as text after anonymisation.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { openStore } from '../store/open-store.ts'
import type { Store } from '../store/store.ts'
import { createAnonymiser } from './send-anonymise.ts'
import { describePayload, type Payload } from './send-payloads.ts'

export const EXPORT_FORMAT = 'mapper-event/1'
/** Events read from a store unless `--replay-limit` says otherwise: the newest. */
export const DEFAULT_REPLAY_LIMIT = 100
const PAGE = 200

/** One stored event as replay reads it. */
export interface ReplayRecord {
  eventId: string
  flowId: string
  flowVersion: number | null
  receivedAt: string
  body: string
}

export interface ReplaySource {
  /** A data directory, a store URL (sqlite:DIR, postgres://…) or a JSON-lines export file. */
  from: string
  /** The flow whose events to read (from a store; an export may hold several flows). */
  flowId?: string
  /** The newest this many events. */
  limit?: number
  /** `retention.redact` paths to anonymise, besides those of each event's stored flow version. */
  redact?: readonly string[]
  /** The anonymisation key; default: random for this run. */
  key?: string
}

export interface ReplayLoad {
  payloads: Payload[]
  /** Production events read (before skipping). */
  read: number
  /** Values replaced by placeholders. */
  anonymised: number
  records: ReplayRecord[]
}

function isStoreSource(from: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/?\//i.test(from) || from.startsWith('sqlite:')) return true
  return existsSync(from) && statSync(from).isDirectory()
}

async function withStore<T>(from: string, use: (store: Store) => Promise<T>): Promise<T> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(from) ? from : undefined
  const store = await openStore(url, from)
  try {
    return await use(store)
  } finally {
    await store.close()
  }
}

/** The newest `limit` production events of a flow (not test, not refused, not duplicates, raw body kept), oldest first. */
async function readStore(
  from: string,
  flowId: string,
  limit: number,
): Promise<{ records: ReplayRecord[]; redactOf: Map<number, string[]> }> {
  return withStore(from, async (store) => {
    const records: ReplayRecord[] = []
    let cursor: string | undefined
    do {
      const page = await store.listEvents({ flow: flowId, test: false, limit: PAGE, ...(cursor ? { cursor } : {}) })
      for (const event of page.items) {
        if (records.length >= limit) break
        if (event.status === 'rejected' || event.status === 'duplicate' || event.rawBody === null) continue
        records.push({
          eventId: event.id,
          flowId,
          flowVersion: event.flowVersion,
          receivedAt: event.receivedAt,
          body: event.rawBody,
        })
      }
      cursor = page.nextCursor ?? undefined
    } while (cursor && records.length < limit)
    const redactOf = new Map<number, string[]>()
    for (const version of new Set(records.map((r) => r.flowVersion))) {
      if (version === null) continue
      const record = await store.getFlowVersion(flowId, version)
      redactOf.set(version, record?.document.retention?.redact ?? [])
    }
    return { records: records.reverse(), redactOf }
  })
}

function readExport(from: string, flowId: string | undefined, limit: number): ReplayRecord[] {
  const records: ReplayRecord[] = []
  readFileSync(from, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return
      let record: Partial<ReplayRecord> & { format?: unknown }
      try {
        record = JSON.parse(line) as typeof record
      } catch (error) {
        throw new Error(`${from}:${i + 1} is not JSON: ${(error as Error).message}`)
      }
      if (record.format !== EXPORT_FORMAT || typeof record.body !== 'string') {
        throw new Error(`${from}:${i + 1} is not a ${EXPORT_FORMAT} record (format and body are required)`)
      }
      if (flowId !== undefined && record.flowId !== flowId) return
      records.push({
        eventId: String(record.eventId ?? `line-${i + 1}`),
        flowId: String(record.flowId ?? ''),
        flowVersion: typeof record.flowVersion === 'number' ? record.flowVersion : null,
        receivedAt: String(record.receivedAt ?? ''),
        body: record.body,
      })
    })
  return records.slice(-limit)
}

function anonymiseBody(body: string, paths: readonly string[], anonymise: ReturnType<typeof createAnonymiser>) {
  if (paths.length === 0) return { body, count: 0 }
  let payload: unknown
  try {
    payload = JSON.parse(body)
  } catch {
    return { body, count: 0 }
  }
  const result = anonymise.anonymise(payload, paths)
  // Unchanged bodies are sent byte-exact; changed ones are written again (their formatting is not kept).
  return result.count === 0 ? { body, count: 0 } : { body: JSON.stringify(result.payload), count: result.count }
}

/** Reads the events and anonymises them; throws with a readable message on an unusable source. */
export async function loadReplay(source: ReplaySource): Promise<ReplayLoad> {
  const limit = source.limit ?? DEFAULT_REPLAY_LIMIT
  const anonymiser = createAnonymiser(source.key ?? randomBytes(16).toString('hex'))
  let records: ReplayRecord[]
  let redactOf = new Map<number, string[]>()
  if (isStoreSource(source.from)) {
    if (!source.flowId) throw new Error('--replay-from a store needs the flow: give --flow <file.flow.json>')
    ;({ records, redactOf } = await readStore(source.from, source.flowId, limit))
  } else if (existsSync(source.from)) {
    records = readExport(source.from, source.flowId, limit)
  } else {
    throw new Error(`--replay-from ${source.from}: no such data directory, store URL or export file`)
  }
  let anonymised = 0
  const out: ReplayRecord[] = records.map((record) => {
    const paths = [...new Set([...(source.redact ?? []), ...(redactOf.get(record.flowVersion ?? -1) ?? [])])]
    const { body, count } = anonymiseBody(record.body, paths, anonymiser)
    anonymised += count
    return { ...record, body }
  })
  return {
    payloads: out.map((record) => describePayload(`replay:${record.eventId}`, record.body)),
    read: records.length,
    anonymised,
    records: out,
  }
}

/** Writes anonymised records as a JSON-lines export (see the format above). */
export function writeExport(file: string, records: readonly ReplayRecord[]): void {
  const lines = records.map((r) => JSON.stringify({ format: EXPORT_FORMAT, ...r, anonymised: true }))
  writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '')
}
