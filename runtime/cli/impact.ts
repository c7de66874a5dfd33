/**
 * @module `mapper impact flow@4`: before a deploy, how the candidate version would have handled the flow's
 * newest stored events, compared with the deployed version — paths, outcomes and fields that change.
 */
import { Command, InvalidArgumentError } from 'commander'
import type { FieldChange, ImpactPreview } from '../server/api/impact.ts'
import type { RunPath } from '../server/api/replay.ts'
import { callApi, reportingFailures, withApiOptions } from './api-client.ts'

const VALUE_WIDTH = 60
/** Events listed one by one in the text report (the JSON has them all). */
const LISTED_EVENTS = 50

function flowAtVersion(value: string): { flow: string; version: number } {
  const match = /^([^@\s]+)@(\d+)$/.exec(value)
  if (!match || Number(match[2]) < 1)
    throw new InvalidArgumentError('expected <flow>@<version>, e.g. conduit-reports@4')
  return { flow: match[1] as string, version: Number(match[2]) }
}

function eventCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new InvalidArgumentError('expected a number of events from 1 to 500')
  return n
}

function shown(value: unknown): string {
  if (value === undefined) return '(absent)'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > VALUE_WIDTH ? `${text.slice(0, VALUE_WIDTH - 1)}…` : text
}

function pathText(path: RunPath): string {
  return path.map(([node, port]) => `${node}:${port ?? '—'}`).join(' → ')
}

function changeText(field: FieldChange): string {
  return `${shown(field.before)} → ${shown(field.after)}`
}

/** The report a person reads before deciding to deploy. */
export function formatImpact(preview: ImpactPreview): string {
  const t = preview.totals
  const lines = [
    `${preview.flowId}: candidate v${preview.candidateVersion} against deployed v${preview.deployedVersion}, on the newest ${t.compared + t.errors} of ${t.requested} events asked`,
    '(both versions run on the stored events without side effects: no downstream was called)',
    '',
    `changed ${t.changed} · unchanged ${t.unchanged} · errors ${t.errors}   (path ${t.pathChanged} · outcome ${t.outcomeChanged} · output ${t.outputChanged})`,
  ]
  if (preview.fields.length > 0) {
    const width = Math.max(...preview.fields.map((f) => f.node.length))
    lines.push('', 'fields that change', `  events  ${'node'.padEnd(width)}  field`)
    for (const f of preview.fields) lines.push(`  ${String(f.events).padStart(6)}  ${f.node.padEnd(width)}  ${f.path}`)
  }
  if (preview.paths.length > 0) {
    lines.push('', 'paths that change')
    for (const p of preview.paths) {
      lines.push(
        `  ${p.events} event${p.events === 1 ? '' : 's'}:`,
        `    deployed   ${pathText(p.deployed)}`,
        `    candidate  ${pathText(p.candidate)}`,
      )
    }
  }
  if (preview.events.length > 0) lines.push('', 'per event')
  for (const event of preview.events.slice(0, LISTED_EVENTS)) {
    const head = `  ${event.eventId}  ${event.receivedAt}`
    if (event.error) {
      lines.push(`${head}  could not be compared: ${event.error}`)
      continue
    }
    if (!event.changed) {
      lines.push(`${head}  unchanged (${event.outcome.deployed})`)
      continue
    }
    const outcome =
      event.outcome.deployed === event.outcome.candidate
        ? event.outcome.deployed
        : `${event.outcome.deployed} → ${event.outcome.candidate}`
    lines.push(`${head}  ${outcome}${event.path.changed ? ', path changed' : ''}`)
    if (event.path.changed) {
      lines.push(
        `      deployed   ${pathText(event.path.deployed)}`,
        `      candidate  ${pathText(event.path.candidate)}`,
      )
      if (event.removed.length > 0) lines.push(`      no longer runs: ${event.removed.join(', ')}`)
      if (event.added.length > 0) lines.push(`      now runs: ${event.added.join(', ')}`)
    }
    for (const node of event.nodes) {
      for (const field of node.fields) lines.push(`      ${node.node}  ${field.path}  ${changeText(field)}`)
    }
  }
  if (preview.events.length > LISTED_EVENTS) {
    lines.push(`  … ${preview.events.length - LISTED_EVENTS} more events (--json lists them all)`)
  }
  if (preview.events.length === 0)
    lines.push('', 'no stored events to run: send some first (mapper send), then preview')
  return lines.join('\n')
}

export function impactCommand(): Command {
  return withApiOptions(
    new Command('impact')
      .description(
        'preview a version before deploying it: run the flow’s newest stored events through it and the deployed version, without side effects, and show what changes',
      )
      .argument('<flow@version>', 'the candidate, e.g. conduit-reports@4', flowAtVersion)
      .option('--events <n>', 'how many of the newest stored events (1–500, default 20)', eventCount)
      .option('--json', 'print the preview as JSON'),
  ).action(
    reportingFailures(
      'impact',
      async (
        target: { flow: string; version: number },
        options: { server: string; token?: string; events?: number; json?: boolean },
      ) => {
        const preview = await callApi<ImpactPreview>(
          options,
          'POST',
          `/flows/${encodeURIComponent(target.flow)}/impact`,
          { version: target.version, ...(options.events === undefined ? {} : { events: options.events }) },
        )
        console.log(options.json ? JSON.stringify(preview, null, 2) : formatImpact(preview))
      },
    ),
  )
}
