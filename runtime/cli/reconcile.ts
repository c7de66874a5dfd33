/**
 * @module `mapper reconcile`: lists the events a running runtime accepted longer ago than a threshold that
 * have no terminal state, with why each is stuck; `--resume` or `--dead-letter` acts on some, with a reason.
 */
import { Command, InvalidArgumentError } from 'commander'
import type { ReconcileResult, UnreconciledItem, UnreconciledList } from '../server/api/reconcile.ts'
import { type ApiTarget, callApi, formatTable, reportingFailures, withApiOptions } from './api-client.ts'

interface ReconcileOptions extends ApiTarget {
  olderThan?: number
  flow?: string
  limit?: number
  resume?: string[]
  deadLetter?: string[]
  reason?: string
  json?: boolean
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function reconcileCommand(): Command {
  return withApiOptions(new Command('reconcile'))
    .description(
      'list events accepted longer ago than a threshold with no terminal state, and why; resume or dead-letter them',
    )
    .option('--older-than <duration>', 'the threshold: 90s, 15m, 2h, 1d or ms (default: the runtime’s)', duration)
    .option('--flow <id>', 'only this flow')
    .option('--limit <n>', 'list at most this many (1…500, default 100)', positive, 100)
    .option('--resume <ids...>', 'resume these events: pending work runs now, lost work is queued again')
    .option('--dead-letter <ids...>', 'move these events to the dead letters (category operator)')
    .option('--reason <text>', 'why: required with --resume and --dead-letter, kept in the audit log')
    .option('--json', 'print JSON')
    .action(
      reportingFailures('reconcile', async (options: ReconcileOptions) => {
        const actions = [
          ...(options.resume ?? []).map((id) => ({ id, action: 'resume' as const })),
          ...(options.deadLetter ?? []).map((id) => ({ id, action: 'dead-letter' as const })),
        ]
        if (actions.length === 0) {
          await list(options)
          return
        }
        if (!options.reason?.trim()) throw new Error('--resume and --dead-letter need --reason (kept in the audit log)')
        await act(options, actions, options.reason.trim())
      }),
    )
}

async function list(options: ReconcileOptions): Promise<void> {
  const query = new URLSearchParams()
  if (options.olderThan !== undefined) query.set('olderThanMs', String(options.olderThan))
  if (options.flow !== undefined) query.set('flow', options.flow)
  if (options.limit !== undefined) query.set('limit', String(options.limit))
  const answer = await callApi<UnreconciledList>(options, 'GET', `/reconcile?${query}`)
  if (options.json) {
    console.log(JSON.stringify(answer, null, 2))
    return
  }
  const threshold = formatDuration(answer.olderThanMs)
  if (answer.items.length === 0) {
    console.log(`no unreconciled events: every event accepted more than ${threshold} ago has settled`)
    return
  }
  const rows = answer.items.map((item) => [
    item.id,
    `${item.flowId}@${item.flowVersion}`,
    item.status,
    formatDuration(item.ageMs),
    item.state,
    whyWithTest(item),
  ])
  console.log(
    [
      `${answer.items.length}${answer.nextCursor ? '+' : ''} unreconciled event(s), accepted more than ${threshold} ago:`,
      formatTable(['EVENT', 'FLOW', 'STATUS', 'AGE', 'STATE', 'WHY'], rows),
      ...(answer.nextCursor ? ['more are listed with a larger --limit (or --flow)'] : []),
      '',
      'act with: mapper reconcile --resume ID… | --dead-letter ID… --reason "…"',
    ].join('\n'),
  )
}

function whyWithTest(item: UnreconciledItem): string {
  return item.test ? `${item.why} [test event]` : item.why
}

async function act(
  options: ReconcileOptions,
  actions: Array<{ id: string; action: 'resume' | 'dead-letter' }>,
  reason: string,
): Promise<void> {
  const results: Array<ReconcileResult | { eventId: string; action: string; error: string }> = []
  for (const { id, action } of actions) {
    try {
      results.push(
        await callApi<ReconcileResult>(options, 'POST', `/reconcile/${encodeURIComponent(id)}`, { action, reason }),
      )
    } catch (error) {
      results.push({ eventId: id, action, error: (error as Error).message })
      process.exitCode = 1
    }
  }
  if (options.json) {
    console.log(JSON.stringify(results, null, 2))
    return
  }
  for (const result of results) {
    if ('error' in result) console.log(`${result.action} ${result.eventId} failed: ${result.error}`)
    else if (result.action === 'resume') {
      const what = result.outcome === 'due' ? 'pending work due now' : 'work phase queued again'
      console.log(`resumed ${result.eventId}: ${what} (${result.items} item(s)), ${result.status}`)
    } else {
      console.log(
        `dead-lettered ${result.eventId}: ${result.deadLetters?.length ?? 0} dead letter(s), replayable later`,
      )
    }
  }
}

/** `90s`, `15m`, `2h`, `1d`, `500ms` or a plain number of milliseconds. */
function duration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) throw new InvalidArgumentError('a duration such as 90s, 15m, 2h, 1d, or milliseconds')
  return Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] as number)
}

function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  if (minutes >= 60) return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
  if (minutes >= 1) return `${minutes}m`
  return ms >= 1_000 ? `${Math.floor(ms / 1_000)}s` : `${ms}ms`
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidArgumentError('an integer from 1 to 500')
  return n
}
