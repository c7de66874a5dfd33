#!/usr/bin/env node
// Runs every test with vitest and ends with the plain line CI reads: "N passed, M failed, K skipped".
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'mapper-test-'))
const report = join(dir, 'report.json')
const vitest = join(import.meta.dirname, '..', 'node_modules', '.bin', 'vitest')
const run = spawnSync(
  vitest,
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, NO_COLOR: process.env.CI ? '1' : process.env.NO_COLOR },
  },
)
let summary = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 }
try {
  summary = JSON.parse(readFileSync(report, 'utf8'))
} catch {
  console.error('vitest wrote no report')
}
rmSync(dir, { recursive: true, force: true })
const skipped = summary.numPendingTests + summary.numTodoTests
console.log(`\n${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${skipped} skipped`)
process.exit(run.status ?? 1)
