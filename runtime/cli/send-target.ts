/** @module `mapper send`: the options a run takes, and where and how it signs (a URL, or a flow's trigger and verify node). */
import { readFileSync } from 'node:fs'
import type { SignatureScheme } from '../model/node-kind.ts'

export type SendScheme = SignatureScheme | 'none'
export const SEND_SCHEMES: readonly SendScheme[] = ['stripe', 'standard-webhooks', 'hmac', 'bearer', 'none']
export type GenerateKind = 'conduit' | 'video'

/** Everything `runSend` takes; the CLI flags map one to one. */
export interface SendOptions {
  /** The full webhook URL; or `flow` (+ `server`). */
  url?: string
  /** A flow document: its trigger path and first verify node give the URL, scheme, header and secret name. */
  flow?: string
  /** Base URL of the runtime for `flow` (default http://127.0.0.1:8080). */
  server?: string
  scheme?: SendScheme
  header?: string
  secret?: string
  /** Name of the environment variable that holds the secret. */
  secretEnv?: string
  algorithm?: 'sha1' | 'sha256' | 'sha512'
  encoding?: 'hex' | 'base64'
  prefix?: string
  /** JSON files, sent byte-exact (unless `unique` rewrites their id). */
  files?: string[]
  /** A directory whose every *.json file is a payload. */
  dir?: string
  /** Realistic generated events instead of files. */
  generate?: GenerateKind
  /** Stored production events instead: a data directory, a store URL or a JSON-lines export (see send-replay.ts). */
  replayFrom?: string
  /** The newest this many events of the flow (default 100). */
  replayLimit?: number
  /** Write the anonymised events to this JSON-lines file instead of sending them. */
  exportTo?: string
  /** Key of the anonymisation hash; default: random per run. */
  anonymiseKey?: string
  /** Rewrite each event's id so every delivery is a distinct event; default: on when count > payloads. */
  unique?: boolean
  /** Number of deliveries; default one per payload. */
  count?: number
  /** Deliveries per second; 0 = as fast as possible. */
  rate?: number
  concurrency?: number
  /** Share (0..1) of deliveries that re-send an earlier event byte-identical, newly signed. */
  duplicates?: number
  /** Seconds added to the signed timestamp. */
  skew?: number
  /** Share (0..1) of deliveries whose body is altered after signing. */
  tamper?: number
  /** Adds `x-mapper-test: 1`. */
  testMarker?: boolean
  /** Extra headers on every delivery. */
  headers?: Record<string, string>
  timeoutMs?: number
  /** Statuses counted as expected (`202`, `2xx`, `401`…); default 2xx plus the 401s tamper/skew ask for. */
  expect?: string[]
  /** The environment secrets are read from (default process.env). */
  env?: Record<string, string | undefined>
}

export interface SendTarget {
  url: string
  scheme: SendScheme
  header?: string
  secret?: string
  algorithm?: SendOptions['algorithm']
  encoding?: SendOptions['encoding']
  prefix?: string
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080'

interface FlowVerify {
  path: string
  scheme?: SendScheme
  header?: string
  secretRef?: string
  algorithm?: SendOptions['algorithm']
  encoding?: SendOptions['encoding']
  prefix?: string
}

function readFlowFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`cannot read the flow ${file}: ${(error as Error).message}`)
  }
}

/** The flow's id and `retention.redact` paths, for replaying its stored events. */
export function readFlowRetention(file: string): { id?: string; redact: string[] } {
  const flow = readFlowFile(file) as { id?: unknown; retention?: { redact?: unknown } }
  const redact = Array.isArray(flow.retention?.redact) ? flow.retention.redact.filter((p) => typeof p === 'string') : []
  return { ...(typeof flow.id === 'string' ? { id: flow.id } : {}), redact }
}

function readFlowVerify(file: string): FlowVerify {
  const document = readFlowFile(file)
  const flow = document as {
    trigger?: { path?: unknown }
    nodes?: { kind?: unknown; config?: Record<string, unknown> }[]
  }
  const path = flow.trigger?.path
  if (typeof path !== 'string' || path === '') throw new Error(`the flow ${file} has no trigger.path`)
  const verify = (Array.isArray(flow.nodes) ? flow.nodes : []).find((node) => node?.kind === 'verify')
  if (!verify) return { path, scheme: 'none' }
  const config = verify.config ?? {}
  const secret = config.secret as { ref?: unknown } | undefined
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  return {
    path,
    scheme: text(config.scheme) as SendScheme | undefined,
    header: text(config.header),
    secretRef: text(secret?.ref),
    algorithm: text(config.algorithm) as SendOptions['algorithm'],
    encoding: text(config.encoding) as SendOptions['encoding'],
    prefix: text(config.prefix),
  }
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/hooks/${path.replace(/^\/+/, '')}`
}

/** Where to send and how to sign, from the flags and (when given) the flow document. Throws with a readable message. */
export function resolveTarget(options: SendOptions): SendTarget {
  const env = options.env ?? process.env
  const fromFlow: Partial<FlowVerify> = options.flow ? readFlowVerify(options.flow) : {}
  let url = options.url
  if (url === undefined) {
    if (fromFlow.path === undefined) throw new Error('give --url <url>, or --flow <file.flow.json> (with --server)')
    url = joinUrl(options.server ?? DEFAULT_SERVER, fromFlow.path)
  }
  const secretName = options.secretEnv ?? fromFlow.secretRef
  const secret = options.secret ?? (secretName === undefined ? undefined : env[secretName])
  const scheme = options.scheme ?? fromFlow.scheme ?? (secret === undefined ? 'none' : 'stripe')
  if (!SEND_SCHEMES.includes(scheme)) throw new Error(`unknown scheme ${scheme}; use one of ${SEND_SCHEMES.join(', ')}`)
  if (scheme !== 'none' && (secret === undefined || secret === '')) {
    const where = secretName ? `the environment variable ${secretName} is not set` : 'no secret was given'
    throw new Error(`the ${scheme} scheme needs a secret: ${where} (use --secret or --secret-env)`)
  }
  const header = options.header ?? fromFlow.header
  if (scheme === 'hmac' && header === undefined) throw new Error('the hmac scheme needs --header <name>')
  return {
    url,
    scheme,
    header,
    secret,
    algorithm: options.algorithm ?? fromFlow.algorithm,
    encoding: options.encoding ?? fromFlow.encoding,
    prefix: options.prefix ?? fromFlow.prefix,
  }
}
