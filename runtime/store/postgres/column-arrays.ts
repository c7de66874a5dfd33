/**
 * @module Rows handed to one statement as parallel arrays (one per column, unnested in SQL), in the column
 * order the statements of accept, complete and event-writes declare them.
 */
import { randomUUID } from 'node:crypto'
import type { DeadLetter, Step, WorkStart } from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import { toDate } from './rows.ts'

/** node, kind, phase, port, attempt, started_at, duration_ms, step (the whole step as JSON). */
export function stepColumns(steps: readonly Step[]): unknown[] {
  return [
    steps.map((s) => s.node),
    steps.map((s) => s.kind),
    steps.map((s) => s.phase),
    steps.map((s) => s.port),
    steps.map((s) => s.attempt),
    steps.map((s) => toDate(s.startedAt)),
    steps.map((s) => s.durationMs),
    steps.map((s) => JSON.stringify(s)),
  ]
}

/** node, lineage (JSON). */
export function lineageColumns(lineage: Record<string, Lineage>): unknown[] {
  const entries = Object.entries(lineage)
  return [entries.map(([node]) => node), entries.map(([, fields]) => JSON.stringify(fields))]
}

/** id (new), node, message (JSON). */
export function workColumns(work: readonly WorkStart[]): unknown[] {
  return [work.map(() => randomUUID()), work.map((start) => start.node), work.map((s) => JSON.stringify(s.message))]
}

/** id (new), node, error (JSON), message (JSON). */
export function deadLetterColumns(deadLetters: readonly DeadLetter[]): unknown[] {
  return [
    deadLetters.map(() => randomUUID()),
    deadLetters.map((dead) => dead.node),
    deadLetters.map((dead) => JSON.stringify(dead.error)),
    deadLetters.map((dead) => JSON.stringify(dead.message)),
  ]
}
