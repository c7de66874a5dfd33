/** What a runtime says at start about a deployed flow it cannot run as configured. */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'

describe('warnings at start', () => {
  let rt: TestRuntime | undefined
  afterAll(async () => {
    await rt?.stop()
  })

  it('names the $vars a deployed flow reads that the runtime was started without, and how to set them', async () => {
    rt = await startTestRuntime({ flows: ['conduit-reports'], vars: {} })
    const warnings = readFileSync(rt.logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; unset?: string[] })
      .filter((entry) => entry.level === 40 && entry.unset)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.unset).toEqual(['CRM_BASE_URL'])
    expect(warnings[0]?.msg).toContain('start with MAPPER_VAR_CRM_BASE_URL')
  })
})
