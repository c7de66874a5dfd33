/**
 * @module `mapper fuzz --flow ID`: malformed, missing-field and type-shifted variants of a flow's events,
 * correctly signed, sent to the running runtime; fails on any 5xx, lost connection, a server that stops
 * answering `/healthz`, or a 422 that names no field path.
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { compileFlow } from '../engine/compile.ts'
import { schemaDirectory } from '../files/schema-directory.ts'
import { deliverVariants } from '../fuzz/deliver-variants.ts'
import { expectAnswer } from '../fuzz/expectation.ts'
import { flowGuards } from '../fuzz/flow-guards.ts'
import { type FuzzReport, formatFuzzReport, summarizeFuzz } from '../fuzz/fuzz-report.ts'
import { DEFAULT_VARIANTS_PER_FAMILY, generateVariants } from '../fuzz/generate-variants.ts'
import { samplesFromSchema } from '../fuzz/schema-sample.ts'
import { FUZZ_FAMILIES, type FuzzFamily } from '../fuzz/variant.ts'
import { type FuzzOutcome, judge } from '../fuzz/verdict.ts'
import type { SignatureScheme, ValidationIssue } from '../model/node-kind.ts'
import { DEFAULT_MAX_BODY_BYTES, type FlowDocument } from '../model/types.ts'
import { nodeKinds } from '../nodes/index.ts'
import { signDelivery } from '../signatures/index.ts'
import { type ApiTarget, callApi, withApiOptions } from './api-client.ts'

/** Share of the flow's rate limit fuzzing uses, so the limiter never decides the answers. */
const RATE_SHARE = 0.8
const DEFAULT_CONCURRENCY = 8
const HEALTH_EVERY = 50
const MAX_RETRIES = 5

export interface FuzzOptions extends ApiTarget {
  flow: string
  count?: number
  seed?: string
  /** Secret value; else `secretEnv`; else the environment variable the flow's verify node names. */
  secret?: string
  secretEnv?: string
  /** Sample payloads: a JSON file or a directory of them; default: made from the flow's schema. */
  samples?: string
  /** Where schema references resolve (the runtime's --schemas). */
  schemas?: string
  families?: FuzzFamily[]
  concurrency?: number
  /** Requests per second; default 80 % of the flow's rate limit. */
  rate?: number
  timeoutMs?: number
  /** Send with the test marker (default true): no side effects, no production figures. */
  testMarker?: boolean
  env?: Record<string, string | undefined>
  /** Progress as answers arrive. */
  onProgress?(done: number, total: number): void
}

interface DeployedFlow {
  doc: FlowDocument
  version: number
}

async function deployedFlow(target: ApiTarget, flowId: string): Promise<DeployedFlow> {
  const flows = await callApi<Array<{ id: string; deployedVersion: number | null }>>(target, 'GET', '/flows')
  const listed = flows.find((flow) => flow.id === flowId)
  if (!listed) throw new Error(`no flow "${flowId}" on ${target.server}`)
  if (listed.deployedVersion === null) throw new Error(`flow "${flowId}" is not deployed: nothing answers its webhook`)
  const record = await callApi<{ document: FlowDocument }>(
    target,
    'GET',
    `/flows/${encodeURIComponent(flowId)}/versions/${listed.deployedVersion}`,
  )
  return { doc: record.document, version: listed.deployedVersion }
}

function readSamples(path: string): Array<{ source: string; payload: unknown }> {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(path, name))
    : [path]
  if (files.length === 0) throw new Error(`no *.json files in ${path}`)
  return files.map((file) => {
    try {
      return { source: file, payload: JSON.parse(readFileSync(file, 'utf8')) as unknown }
    } catch (error) {
      throw new Error(`sample ${file} is not JSON: ${(error as Error).message}`)
    }
  })
}

type Signer = (rawBody: string, messageId: string) => Record<string, string>

function signer(doc: FlowDocument, options: FuzzOptions): Signer {
  const verify = flowGuards(doc).verify
  if (!verify) return () => ({})
  const config = verify.config as {
    scheme: SignatureScheme
    header?: string
    secret?: { ref?: string }
    algorithm?: 'sha1' | 'sha256' | 'sha512'
    encoding?: 'hex' | 'base64'
    prefix?: string
  }
  const env = options.env ?? process.env
  const name = options.secretEnv ?? config.secret?.ref
  const secret = options.secret ?? (name === undefined ? undefined : env[name])
  if (secret === undefined || secret === '') {
    throw new Error(
      `the flow's ${config.scheme} verify node needs its secret to sign variants: give --secret, or set ${name ?? 'the variable named by --secret-env'}`,
    )
  }
  return (rawBody, messageId) =>
    signDelivery(config.scheme, secret, rawBody, {
      header: config.header,
      timestampSec: Date.now() / 1000,
      id: messageId,
      algorithm: config.algorithm,
      encoding: config.encoding,
      prefix: config.prefix,
    })
}

/** Runs the whole fuzz: reads the deployed flow, makes the variants, sends them and judges every answer. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { doc, version } = await deployedFlow(options, options.flow)
  const schemas = schemaDirectory(options.schemas ?? 'schemas')
  const validateNode = flowGuards(doc).validate
  let check: ((payload: unknown) => ValidationIssue[]) | undefined
  let schema: object | undefined
  if (validateNode) {
    const ref = (validateNode.config as { schema: string | object }).schema
    schema = typeof ref === 'string' ? schemas.load(ref) : ref
    if (!schema)
      throw new Error(`schema "${String(ref)}" is not under ${options.schemas ?? 'schemas'} (give --schemas DIR)`)
    const compiled = compileFlow(doc, { kinds: nodeKinds, schemas })
    check = (payload) => compiled.validate(ref, payload)
  }
  const sign = signer(doc, options)
  let samples: unknown[]
  if (options.samples) {
    const read = readSamples(options.samples)
    samples = read.filter(({ payload }) => !check || check(payload).length === 0).map(({ payload }) => payload)
    if (samples.length === 0) throw new Error(`none of the samples in ${options.samples} passes the flow's schema`)
  } else {
    if (!schema) throw new Error(`flow "${options.flow}" has no validate node to make samples from: give --samples`)
    samples = samplesFromSchema(schema, (ref) => schemas.load(ref)).filter((s) => !check || check(s).length === 0)
    if (samples.length === 0) throw new Error("no valid sample could be made from the flow's schema: give --samples")
  }
  const seed = options.seed ?? '1'
  const maxBodyBytes = doc.trigger.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const variants = generateVariants({
    samples,
    count: options.count ?? DEFAULT_VARIANTS_PER_FAMILY,
    seed,
    // New ids on every run, so a second run is not answered "duplicate"; the variants themselves repeat.
    idSeed: `${seed}:${randomBytes(6).toString('hex')}`,
    maxBodyBytes,
    ...(options.families ? { families: options.families } : {}),
  })
  const server = options.server.replace(/\/+$/, '')
  const url = `${server}/hooks/${doc.trigger.path.replace(/^\/+/, '')}`
  const limit = doc.trigger.rateLimit?.perSecond
  const runId = randomBytes(4).toString('hex')
  let done = 0
  const delivery = await deliverVariants(
    { url, healthUrl: `${server}/healthz`, sign },
    variants,
    {
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      rate: options.rate ?? (limit ? limit * RATE_SHARE : 0),
      timeoutMs: options.timeoutMs ?? 15_000,
      testMarker: options.testMarker ?? true,
      healthEvery: HEALTH_EVERY,
      maxRetries: MAX_RETRIES,
      onAnswer: () => options.onProgress?.(++done, variants.length),
    },
    (variant, attempt) => `msg_fuzz_${runId}_${variant.index}_${attempt}`,
  )
  const outcomes: FuzzOutcome[] = []
  for (const variant of variants) {
    const answer = delivery.answers[variant.index]
    if (answer) outcomes.push(judge(variant, answer, expectAnswer(variant, maxBodyBytes, check)))
  }
  return summarizeFuzz(
    {
      flow: `${doc.id}@${version}`,
      url,
      seed,
      durationMs: delivery.durationMs,
      healthy: delivery.healthy,
      ...(delivery.aborted === undefined ? {} : { aborted: delivery.aborted }),
    },
    outcomes,
  )
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number')
  return n
}

function familyList(value: string): FuzzFamily[] {
  const list = value.split(',').map((s) => s.trim())
  const unknown = list.filter((f) => !(FUZZ_FAMILIES as readonly string[]).includes(f))
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown families ${unknown.join(', ')}; use ${FUZZ_FAMILIES.join(', ')}`)
  return list as FuzzFamily[]
}

interface CliOptions extends Omit<FuzzOptions, 'onProgress' | 'env'> {
  json?: boolean
  summary?: boolean
}

export function fuzzCommand(): Command {
  return withApiOptions(
    new Command('fuzz')
      .description(
        'send malformed, missing-field, type-shifted, oversized, deeply nested, bad-unicode and truncated variants of a flow’s events, correctly signed, and report each answer',
      )
      .requiredOption('--flow <id>', 'the deployed flow to fuzz (read from the runtime’s API)')
      .option('--count <n>', `most variants per family (${DEFAULT_VARIANTS_PER_FAMILY})`, positiveInt)
      .option('--seed <seed>', 'the same seed makes the same variants (ids excepted)', '1')
      .option(
        '--samples <path>',
        'valid payloads to start from: a JSON file or a directory of them (default: made from the schema)',
      )
      .option('--schemas <dir>', 'where the flow’s schema references resolve', 'schemas')
      .option('--secret <value>', 'signing secret (default: the verify node’s secret ref from the environment)')
      .option('--secret-env <name>', 'environment variable that holds the secret')
      .option('--families <list>', `only these families, comma-separated: ${FUZZ_FAMILIES.join(', ')}`, familyList)
      .option('--concurrency <n>', 'requests in flight', positiveInt, DEFAULT_CONCURRENCY)
      .option('--rate <per-second>', 'requests per second (default: 80 % of the flow’s rate limit)', positiveNumber)
      .option('--timeout-ms <ms>', 'per-request timeout', positiveInt, 15_000)
      .option('--no-test-marker', 'send without x-mapper-test: side effects run and production figures count them'),
  )
    .addOption(new Option('--summary', 'print failures, notes and the table by family, not every variant'))
    .option('--json', 'print the report as JSON')
    .action(async (cli: CliOptions) => {
      const { json, summary, ...options } = cli
      let report: FuzzReport
      try {
        report = await runFuzz({
          ...options,
          onProgress: process.stderr.isTTY
            ? (done, total) => process.stderr.write(`\rfuzz: ${done}/${total}${done === total ? '\n' : ''}`)
            : undefined,
        })
      } catch (error) {
        console.error(`mapper fuzz: ${(error as Error).message}`)
        process.exitCode = 1
        return
      }
      console.log(json ? JSON.stringify(report, null, 2) : formatFuzzReport(report, { verbose: !summary }))
      process.exitCode = report.ok ? 0 : 1
    })
}
