/** @module `mapper send`: a mock sender — signed deliveries from files or generated, with rate, duplicates, skew and tampering. */
import { Command, InvalidArgumentError, Option } from 'commander'
import { deliverAll } from './send-deliver.ts'
import { GENERATED_TYPES, generatePayloads, type Payload, readPayloadDir, readPayloadFiles } from './send-payloads.ts'
import { planDeliveries } from './send-plan.ts'
import { loadReplay, type ReplayLoad, writeExport } from './send-replay.ts'
import { formatReport, type SendReport, summarize } from './send-report.ts'
import { DEFAULT_SERVER, readFlowRetention, resolveTarget, SEND_SCHEMES, type SendOptions } from './send-target.ts'

export type { SendReport } from './send-report.ts'
export type { SendOptions } from './send-target.ts'

/** Stored events of the `--flow` document's flow, anonymised by its redact paths (and each stored version's). */
export function replaySource(options: SendOptions): Promise<ReplayLoad> {
  const flow = options.flow ? readFlowRetention(options.flow) : { redact: [] }
  return loadReplay({
    from: options.replayFrom as string,
    ...(flow.id === undefined ? {} : { flowId: flow.id }),
    redact: flow.redact,
    ...(options.replayLimit === undefined ? {} : { limit: options.replayLimit }),
    ...(options.anonymiseKey === undefined ? {} : { key: options.anonymiseKey }),
  })
}

async function loadPayloads(
  options: SendOptions,
): Promise<{ payloads: Payload[]; count: number; replay?: SendReport['replay'] }> {
  const sources = [
    options.files?.length ? 'files' : '',
    options.dir ?? '',
    options.generate ?? '',
    options.replayFrom ?? '',
  ].filter(Boolean)
  if (sources.length === 0)
    throw new Error(
      'give payloads: --file <path> (repeatable), --dir <dir>, --generate conduit|video or --replay-from <data dir|store|export>',
    )
  if (sources.length > 1) throw new Error('give only one of --file, --dir, --generate and --replay-from')
  if (options.replayFrom) {
    const replay = await replaySource(options)
    if (replay.payloads.length === 0) throw new Error(`--replay-from ${options.replayFrom}: no stored events to replay`)
    return {
      payloads: replay.payloads,
      count: options.count ?? replay.payloads.length,
      replay: { from: options.replayFrom, events: replay.read, anonymised: replay.anonymised },
    }
  }
  if (options.generate) {
    const count = options.count ?? GENERATED_TYPES
    return { payloads: generatePayloads(options.generate, count), count }
  }
  const payloads = options.dir ? readPayloadDir(options.dir) : readPayloadFiles(options.files ?? [])
  return { payloads, count: options.count ?? payloads.length }
}

function checkShare(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new Error(`--${name} is a share between 0 and 1, not ${value}`)
  return value
}

/** Sends the deliveries the options describe and reports the answers. Throws on unusable options. */
export async function runSend(options: SendOptions): Promise<SendReport> {
  const target = resolveTarget(options)
  const { payloads, count, replay } = await loadPayloads(options)
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, not ${count}`)
  const duplicates = checkShare('duplicates', options.duplicates ?? 0)
  const tamper = checkShare('tamper', options.tamper ?? 0)
  const plan = planDeliveries(payloads, {
    count,
    unique: options.unique ?? count > payloads.length,
    duplicates,
    tamper,
  })
  const skewSec = options.skew ?? 0
  const { outcomes, durationMs } = await deliverAll(target, plan, {
    rate: Math.max(0, options.rate ?? 0),
    concurrency: options.concurrency ?? 10,
    skewSec,
    testMarker: options.testMarker ?? false,
    headers: options.headers ?? {},
    timeoutMs: options.timeoutMs ?? 10_000,
  })
  const report = summarize(target.url, outcomes, durationMs, { scheme: target.scheme, skewSec, expect: options.expect })
  return replay ? { ...report, replay } : report
}

/** `--export-to`: the anonymised events written as JSON lines instead of sent; answers how many. */
export async function exportReplay(
  options: SendOptions,
): Promise<{ file: string; events: number; anonymised: number }> {
  if (!options.replayFrom || !options.exportTo) throw new Error('--export-to goes with --replay-from')
  const replay = await replaySource(options)
  writeExport(options.exportTo, replay.records)
  return { file: options.exportTo, events: replay.records.length, anonymised: replay.anonymised }
}

function number(kind: 'int' | 'float', min: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || n < min) {
      throw new InvalidArgumentError(`expected ${kind === 'int' ? 'an integer' : 'a number'} ≥ ${min}`)
    }
    return n
  }
}

function signedNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number of seconds')
  return n
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function headerPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('expected name=value')
  return { ...previous, [value.slice(0, eq).trim().toLowerCase()]: value.slice(eq + 1) }
}

function statuses(value: string): string[] {
  const list = value.split(',').map((s) => s.trim())
  if (list.some((s) => !/^[1-5](\d\d|xx)$/i.test(s)))
    throw new InvalidArgumentError('expected statuses such as 202,200,4xx')
  return list
}

interface CliOptions extends Omit<SendOptions, 'files' | 'headers'> {
  file?: string[]
  headerAdd?: Record<string, string>
  json?: boolean
}

export function sendCommand(): Command {
  return new Command('send')
    .description('send signed webhook deliveries (from files or generated) and report how they were answered')
    .option('--url <url>', 'webhook URL, e.g. http://127.0.0.1:8080/hooks/conduit/reports')
    .option('--flow <file>', 'flow document: its trigger path, verify scheme, header and secret name')
    .option('--server <url>', 'runtime base URL for --flow', DEFAULT_SERVER)
    .addOption(new Option('--scheme <scheme>', 'signature scheme').choices(SEND_SCHEMES))
    .option('--header <name>', 'signature header (default: the scheme’s, or the flow’s)')
    .option('--secret <value>', 'signing secret (default: the flow’s secret ref from the environment)')
    .option('--secret-env <name>', 'environment variable that holds the secret')
    .addOption(new Option('--algorithm <alg>', 'hmac algorithm').choices(['sha1', 'sha256', 'sha512']))
    .addOption(new Option('--encoding <enc>', 'hmac digest encoding').choices(['hex', 'base64']))
    .option('--prefix <text>', 'hmac signature prefix, e.g. sha256=')
    .option('--file <path>', 'JSON payload file, sent byte-exact (repeatable)', collect)
    .option('--dir <dir>', 'send every *.json file in a directory')
    .addOption(new Option('--generate <kind>', 'generate realistic events').choices(['conduit', 'video']))
    .option(
      '--replay-from <source>',
      'replay stored production events of the --flow: a data directory, a store URL (sqlite:DIR, postgres://…) or a JSON-lines export; anonymised by the flow’s retention.redact',
    )
    .option('--replay-limit <n>', 'the newest this many stored events (100)', number('int', 1))
    .option('--export-to <file>', 'with --replay-from: write the anonymised events as JSON lines instead of sending')
    .option(
      '--anonymise-key <key>',
      'key of the placeholders: the same key gives the same placeholders (default: random)',
    )
    .option('--unique', 'rewrite each event id so every delivery is a distinct event (default when --count > payloads)')
    .option('--no-unique', 'send payloads with their ids as they are')
    .option('--count <n>', 'number of deliveries (default: one per payload)', number('int', 1))
    .option('--rate <per-second>', 'deliveries per second, 0 = as fast as possible', number('float', 0), 0)
    .option('--concurrency <n>', 'requests in flight', number('int', 1), 10)
    .option('--duplicates <share>', 'share (0..1) of deliveries that re-send an earlier event', number('float', 0), 0)
    .option('--skew <seconds>', 'shift signed timestamps by this many seconds', signedNumber, 0)
    .option('--tamper <share>', 'share (0..1) of deliveries whose body is altered after signing', number('float', 0), 0)
    .option('--test-marker', 'add the header x-mapper-test: 1')
    .option('--header-add <name=value>', 'extra header on every delivery (repeatable)', headerPair)
    .option('--timeout-ms <ms>', 'per-request timeout', number('int', 1), 10_000)
    .option('--expect <statuses>', 'statuses counted as expected, e.g. 202,200 or 2xx,401', statuses)
    .option('--json', 'print the report as JSON')
    .action(async (cli: CliOptions) => {
      const { file, headerAdd, json, ...rest } = cli
      if (rest.exportTo) {
        try {
          const exported = await exportReplay(rest)
          console.log(
            json
              ? JSON.stringify(exported, null, 2)
              : `exported   ${exported.events} events to ${exported.file} (${exported.anonymised} values anonymised)`,
          )
        } catch (error) {
          console.error(`mapper send: ${(error as Error).message}`)
          process.exitCode = 1
        }
        return
      }
      let report: SendReport
      try {
        report = await runSend({ ...rest, files: file, headers: headerAdd })
      } catch (error) {
        console.error(`mapper send: ${(error as Error).message}`)
        process.exitCode = 1
        return
      }
      console.log(json ? JSON.stringify(report, null, 2) : formatReport(report))
      process.exitCode = report.ok ? 0 : 1
    })
}
