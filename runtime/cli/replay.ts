/**
 * @module `mapper replay`: re-runs one event, or a set of dead letters, through a running runtime's API;
 * `--preview` runs without side effects and prints what would change.
 */
import { Command, InvalidArgumentError } from 'commander'
import type { BulkReplayFailure } from '../server/api/dead-letters.ts'
import type { ReplayPreview, ReplayResult, RunPath } from '../server/api/replay.ts'
import { type ApiTarget, callApi, reportingFailures, withApiOptions } from './api-client.ts'

interface ReplayOptions extends ApiTarget {
  deadLetters?: boolean
  flow?: string
  ids?: string[]
  version?: number
  preview?: boolean
  reason?: string
  json?: boolean
}

interface BulkAnswer {
  preview?: true
  replayed?: ReplayResult[]
  previews?: ReplayPreview[]
  failed: BulkReplayFailure[]
  truncated: boolean
}

/** How much of a changed output the terminal shows. */
const SHOWN_VALUE_CHARS = 400

export function replayCommand(): Command {
  return withApiOptions(new Command('replay'))
    .description(
      're-run an event (on the version that first ran it, or --version), or the dead letters of --dead-letters',
    )
    .argument('[eventId]', 'the event to replay (evt_…)')
    .option('--dead-letters', 'replay dead letters instead: those of --ids, or every open one of --flow')
    .option('--flow <id>', 'with --dead-letters: the flow whose open dead letters to replay')
    .option('--ids <ids>', 'with --dead-letters: dead-letter ids, comma-separated', list)
    .option('--version <n>', 'the flow version to run (default: the version that first ran the event)', positive)
    .option('--preview', 'run without side effects and show what would change (needs the editor role)')
    .option('--reason <text>', 'why: required for a real replay, kept in the audit log')
    .option('--json', 'print JSON')
    .action(
      reportingFailures('replay', async (eventId: string | undefined, options: ReplayOptions) => {
        if (options.deadLetters) {
          if (eventId !== undefined) throw new Error('give an event id or --dead-letters, not both')
          if (options.flow === undefined && options.ids === undefined) {
            throw new Error('--dead-letters needs --flow ID or --ids a,b')
          }
          await replayDeadLetters(options)
          return
        }
        if (eventId === undefined) throw new Error('give the event id to replay, or --dead-letters')
        await replayOne(eventId, options)
      }),
    )
}

function replayBody(options: ReplayOptions): Record<string, unknown> {
  if (!options.preview && !options.reason) throw new Error('a replay needs --reason (it is kept in the audit log)')
  return {
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.preview ? { preview: true } : {}),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  }
}

async function replayOne(eventId: string, options: ReplayOptions): Promise<void> {
  const answer = await callApi<ReplayPreview | ReplayResult>(
    options,
    'POST',
    `/events/${encodeURIComponent(eventId)}/replay`,
    replayBody(options),
  )
  if (options.json) {
    console.log(JSON.stringify(answer, null, 2))
    return
  }
  if ('preview' in answer) console.log(formatPreview(answer))
  else console.log(`event ${answer.eventId} replayed on version ${answer.version}: ${answer.status}`)
}

async function replayDeadLetters(options: ReplayOptions): Promise<void> {
  const answer = await callApi<BulkAnswer>(options, 'POST', '/dead-letters/replay', {
    ...(options.ids === undefined ? {} : { ids: options.ids }),
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    ...replayBody(options),
  })
  if (options.json) {
    console.log(JSON.stringify(answer, null, 2))
    return
  }
  const lines: string[] = []
  if (answer.preview) {
    for (const preview of answer.previews ?? []) lines.push(formatPreview(preview), '')
    lines.push(`${answer.previews?.length ?? 0} previewed, ${answer.failed.length} failed`)
  } else {
    for (const done of answer.replayed ?? []) {
      lines.push(`replayed ${done.eventId} on version ${done.version}: ${done.status}`)
    }
    lines.push(`${answer.replayed?.length ?? 0} replayed, ${answer.failed.length} failed`)
  }
  for (const failure of answer.failed) {
    lines.push(`failed ${failure.eventId ?? failure.deadLetterId ?? '?'}: ${failure.error}`)
  }
  if (answer.truncated) lines.push('more dead letters are open: run the command again for the next ones')
  console.log(lines.join('\n'))
  if (answer.failed.length > 0) process.exitCode = 1
}

/** A preview for a terminal: the outcome, the path before and now, and the outputs that changed. */
export function formatPreview(preview: ReplayPreview): string {
  const { changes } = preview
  const lines = [`preview of ${preview.eventId} on version ${preview.version}: ${preview.outcome}`]
  if (preview.rejection) lines.push(`  refused: ${preview.rejection.message}`)
  lines.push(`  path before: ${formatPath(changes.path.before)}`)
  lines.push(`  path now:    ${formatPath(changes.path.after)}${changes.path.changed ? '' : '  (same)'}`)
  if (changes.added.length > 0) lines.push(`  new nodes:   ${changes.added.join(', ')}`)
  if (changes.removed.length > 0) lines.push(`  not reached: ${changes.removed.join(', ')}`)
  if (changes.outputs.length === 0) lines.push('  no output changes')
  for (const change of changes.outputs) {
    lines.push(`  ${change.node} changed`)
    lines.push(`    before: ${shorten(change.before)}`)
    lines.push(`    now:    ${shorten(change.after)}`)
  }
  if (changes.unchanged.length > 0) lines.push(`  unchanged: ${changes.unchanged.join(', ')}`)
  for (const dead of preview.deadLetters) {
    lines.push(`  would dead-letter at ${dead.node}: ${dead.error.category}: ${dead.error.message}`)
  }
  return lines.join('\n')
}

function formatPath(path: RunPath): string {
  return path.length === 0 ? '(none)' : path.map(([node, port]) => `${node}:${port ?? '-'}`).join(' → ')
}

function shorten(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length > SHOWN_VALUE_CHARS ? `${text.slice(0, SHOWN_VALUE_CHARS)}…` : text
}

function list(value: string): string[] {
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean)
  if (ids.length === 0) throw new InvalidArgumentError('give at least one id')
  return ids
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer')
  return n
}
