import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/paths.ts'
import { runScenario, type Scenario } from '../support/scenario.ts'

const dir = resolve(REPO_ROOT, 'test/scenarios')
const scenarios = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(resolve(dir, name), 'utf8')) as Scenario)

describe('golden scenarios', () => {
  it('covers every fixture of both example flows', () => {
    const fixtures = scenarios.flatMap((s) => ('fixture' in s.request.body ? [s.request.body.fixture] : []))
    for (const name of ['report.completed', 'report.failed', 'matching.completed', 'matching.failed']) {
      expect(fixtures).toContain(`conduit/${name}.json`)
    }
    for (const name of ['completed', 'failed', 'cancelled', 'progress'])
      expect(fixtures).toContain(`video/${name}.json`)
  })

  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const outcome = await runScenario(scenario)
      const { expect: want } = scenario
      expect(outcome.answer).toBe(want.answer)
      if (want.rejection) expect(outcome.rejection).toMatchObject(want.rejection)
      if (want.path) expect(outcome.steps.map((s) => [s.node, s.port])).toEqual(want.path)
      for (const [node, output] of Object.entries(want.outputs ?? {})) {
        expect(outcome.steps.find((s) => s.node === node)?.output).toEqual(output)
      }
      if (want.requests) {
        expect(outcome.requests).toHaveLength(want.requests.length)
        want.requests.forEach(({ json, ...request }, i) => {
          expect(outcome.requests[i]).toMatchObject(request)
          if (json !== undefined) expect(JSON.parse(outcome.requests[i]?.body ?? 'null')).toEqual(json)
        })
      }
      if (want.deadLetters) {
        expect(outcome.deadLetters.map((d) => ({ node: d.node, category: d.error.category }))).toEqual(want.deadLetters)
      }
      for (const [node, count] of Object.entries(want.attempts ?? {})) {
        expect(outcome.steps.filter((s) => s.node === node)).toHaveLength(count)
      }
      for (const [node, lineage] of Object.entries(want.lineage ?? {})) expect(outcome.lineage[node]).toEqual(lineage)
    })
  }
})
