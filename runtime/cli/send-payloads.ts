/** @module `mapper send`: where bodies come from (files sent byte-exact, a directory, or generated events) and id rewriting. */
import { randomBytes, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GenerateKind } from './send-target.ts'

export interface Payload {
  /** Where it came from: a file path or `generated:<type>`. */
  source: string
  /** The raw body, exactly as sent. */
  body: string
  /** The field that identifies the event (`id` for conduit-like envelopes, `task_id` for video). */
  idField?: 'id' | 'task_id'
  /** The event's identity as the sender sees it. */
  eventKey?: string
}

const ID_FIELDS = ['id', 'task_id'] as const
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A payload from its raw body: which field identifies the event, and the event as the sender knows it. */
export function describePayload(source: string, body: string): Payload {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { source, body }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { source, body }
  const record = parsed as Record<string, unknown>
  const idField = ID_FIELDS.find((field) => typeof record[field] === 'string')
  if (idField === undefined) return { source, body }
  const id = record[idField] as string
  // Video deliveries share a task id across statuses: the event is the task, its status and progress.
  const eventKey = idField === 'task_id' ? `${id}:${record.status}:${record.progress_percentage ?? ''}` : id
  return { source, body, idField, eventKey }
}

export function readPayloadFiles(files: readonly string[]): Payload[] {
  return files.map((file) => describePayload(file, readFileSync(file, 'utf8')))
}

export function readPayloadDir(dir: string): Payload[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(dir, name))
  if (files.length === 0) throw new Error(`no *.json files in ${dir}`)
  return readPayloadFiles(files)
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

/** A fresh id in the style of the old one: a UUID for a UUID, else the same `prefix_` and random hex. */
function freshId(old: string): string {
  if (UUID.test(old)) return randomUUID()
  const prefix = /^[A-Za-z]+_/.exec(old)?.[0] ?? ''
  return `${prefix}${hex(12)}`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The same payload as a distinct event: its id field rewritten in place, so the rest of the bytes
 * (formatting included) stay as they were. Payloads without an id field come back unchanged.
 */
export function withFreshId(payload: Payload): Payload {
  if (payload.idField === undefined) return payload
  const record = JSON.parse(payload.body) as Record<string, unknown>
  const old = record[payload.idField] as string
  const id = freshId(old)
  const literal = new RegExp(`("${payload.idField}"\\s*:\\s*)${escapeRegExp(JSON.stringify(old))}`)
  let body = payload.body.replace(literal, (_match, key: string) => `${key}${JSON.stringify(id)}`)
  if (body === payload.body) body = JSON.stringify({ ...record, [payload.idField]: id }, null, 2)
  return describePayload(payload.source, body)
}

const CONDUIT_TYPES = ['report.completed', 'report.failed', 'matching.completed', 'matching.failed'] as const
const CONDUIT_ERRORS = [
  { code: 'target_not_found', message: 'Could not identify target speaker' },
  { code: 'media_unreadable', message: 'The source media could not be decoded' },
  { code: 'quota_exceeded', message: 'The workspace has no analysis minutes left' },
]
const PROMPTS = [
  'A serene mountain landscape with clouds',
  'A red fox running through fresh snow at dawn',
  'Time-lapse of a city skyline from day to night',
]

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length] as T
}

function conduitEvent(n: number, now: Date): Record<string, unknown> {
  const type = pick(CONDUIT_TYPES, n)
  const jobId = `cm5job${hex(6)}`
  const data: Record<string, unknown> =
    type === 'report.completed'
      ? { jobId, reportId: `cm5report${hex(6)}`, status: 'completed' }
      : type === 'matching.completed'
        ? { jobId, matchingId: `cm5matching${hex(5)}`, status: 'completed' }
        : { jobId, status: 'failed', error: pick(CONDUIT_ERRORS, n >> 2) }
  return { id: `evt_${hex(12)}`, type, createdAt: now.toISOString(), data }
}

function videoEvent(n: number, now: Date): Record<string, unknown> {
  const status = pick(['completed', 'failed', 'cancelled', 'processing'] as const, n)
  const base = { task_id: randomUUID(), status, timestamp: now.toISOString() }
  const prompt = pick(PROMPTS, n >> 2)
  if (status === 'processing') {
    const progress = pick([10, 25, 50, 75, 90], n >> 2)
    return {
      ...base,
      webhook_type: 'video_generation_progress',
      progress_percentage: progress,
      message: 'Rendering video content',
      estimated_seconds_remaining: Math.round((100 - progress) * 0.6),
    }
  }
  if (status === 'completed') {
    return {
      ...base,
      webhook_type: 'video_generation_completed',
      video_url: `https://cdn.example.com/videos/${base.task_id}.mp4`,
      generation_duration_seconds: 30 + (n % 40) + 0.5,
      model: 'minimax-video',
      prompt,
    }
  }
  const error =
    status === 'failed' ? 'Insufficient credits for video generation' : 'Video generation was cancelled by user request'
  return { ...base, webhook_type: 'video_generation_completed', error, model: 'minimax-video', prompt }
}

/** `count` realistic events of the fixtures' shapes, types cycling, each with a fresh id. */
export function generatePayloads(kind: GenerateKind, count: number): Payload[] {
  const now = new Date()
  return Array.from({ length: count }, (_, n) => {
    const event = kind === 'conduit' ? conduitEvent(n, now) : videoEvent(n, now)
    return describePayload(`generated:${kind}`, `${JSON.stringify(event, null, 2)}\n`)
  })
}

/** Types a generator cycles through: its default count is one of each. */
export const GENERATED_TYPES = 4
