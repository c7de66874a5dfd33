/** @module The report of a fuzz run: every variant's answer, a table by family, and whether the run passed. */
import { FUZZ_FAMILIES, type FuzzFamily } from './variant.ts'
import type { FuzzOutcome } from './verdict.ts'

export interface FamilySummary {
  family: FuzzFamily
  sent: number
  /** Status → count; `none` for no answer. */
  byStatus: Record<string, number>
  failures: number
  notes: number
}

export interface FuzzReport {
  flow: string
  url: string
  seed: string
  sent: number
  durationMs: number
  families: FamilySummary[]
  /** Every variant, in order. */
  outcomes: FuzzOutcome[]
  failures: number
  notes: number
  /** `/healthz` answered after the run (and at every check during it). */
  healthy: boolean
  /** Why the run stopped before sending every variant, when it did. */
  aborted?: string
  ok: boolean
}

export function summarizeFuzz(
  meta: { flow: string; url: string; seed: string; durationMs: number; healthy: boolean; aborted?: string },
  outcomes: readonly FuzzOutcome[],
): FuzzReport {
  const families: FamilySummary[] = []
  for (const family of FUZZ_FAMILIES) {
    const mine = outcomes.filter((o) => o.family === family)
    if (mine.length === 0) continue
    const byStatus: Record<string, number> = {}
    for (const o of mine) byStatus[o.status ?? 'none'] = (byStatus[o.status ?? 'none'] ?? 0) + 1
    families.push({
      family,
      sent: mine.length,
      byStatus,
      failures: mine.filter((o) => !o.ok).length,
      notes: mine.filter((o) => o.note !== undefined).length,
    })
  }
  const failures = outcomes.filter((o) => !o.ok).length
  return {
    ...meta,
    sent: outcomes.length,
    durationMs: Math.round(meta.durationMs),
    families,
    outcomes: [...outcomes],
    failures,
    notes: outcomes.filter((o) => o.note !== undefined).length,
    ok: failures === 0 && meta.healthy && meta.aborted === undefined,
  }
}

function statuses(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}×${n}`)
    .join(' ')
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`
}

function answerText(o: FuzzOutcome): string {
  const status = o.status === undefined ? 'no answer' : String(o.status)
  const where = o.paths && o.paths.length > 0 ? ` ${o.paths.map((p) => p || '(body)').join(',')}` : ''
  return `${status} ${o.code ?? ''}${where}`.trim()
}

/** One line per variant (`verbose`), then failures and notes, then the table by family and the verdict. */
export function formatFuzzReport(report: FuzzReport, options: { verbose: boolean }): string {
  const lines: string[] = [`fuzz ${report.flow} at ${report.url} (seed ${report.seed})`, '']
  const line = (o: FuzzOutcome) =>
    `${String(o.index).padStart(4)}  ${o.family.padEnd(14)}  ${clip(answerText(o), 44).padEnd(44)}  ${clip(o.description, 90)}`
  if (options.verbose) {
    lines.push(`   #  ${'family'.padEnd(14)}  ${'answer'.padEnd(44)}  variant`)
    for (const o of report.outcomes) lines.push(line(o))
    lines.push('')
  }
  const failed = report.outcomes.filter((o) => !o.ok)
  if (failed.length > 0) {
    lines.push(`FAILED (${failed.length}):`)
    for (const o of failed) lines.push(`${line(o)}\n        → ${o.problem}`)
    lines.push('')
  }
  const noted = report.outcomes.filter((o) => o.note !== undefined)
  if (noted.length > 0) {
    lines.push(`worth a look (${noted.length}, not failures):`)
    for (const o of noted.slice(0, 20)) lines.push(`${line(o)}\n        → ${o.note}`)
    if (noted.length > 20) lines.push(`  … ${noted.length - 20} more (--json lists them all)`)
    lines.push('')
  }
  lines.push(`${'family'.padEnd(16)}${'sent'.padStart(5)}  ${'failed'.padStart(6)}  answers`)
  for (const f of report.families) {
    lines.push(
      `${f.family.padEnd(16)}${String(f.sent).padStart(5)}  ${String(f.failures).padStart(6)}  ${statuses(f.byStatus)}`,
    )
  }
  lines.push(`${'total'.padEnd(16)}${String(report.sent).padStart(5)}  ${String(report.failures).padStart(6)}`, '')
  if (report.aborted) lines.push(`stopped early: ${report.aborted}`)
  lines.push(`healthz     ${report.healthy ? 'answered throughout' : 'STOPPED ANSWERING'}`)
  lines.push(`duration    ${(report.durationMs / 1000).toFixed(1)} s`)
  lines.push(
    report.ok
      ? 'result      passed: no 5xx, no lost connection, every 422 names a field path'
      : `result      FAILED: ${report.failures} variant(s)${report.healthy ? '' : ', the server stopped answering'}`,
  )
  return lines.join('\n')
}
