/** What a runtime says at start about a deployed flow it cannot run as configured. */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'

describe('warnings at start', () => {
  let rt: TestRuntime | undefined
  afterAll(async () => {
    await rt?.stop()
  })

  it('names the $vars and the secrets a deployed flow reads that the runtime lacks, and how to set them', async () => {
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      vars: {},
      secrets: { CONDUIT_WEBHOOK_SECRET: ['whsec_start'] },
    })
    const entries = readFileSync(rt.logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; unset?: string[]; unsetSecrets?: string[] })
    const warnings = entries.filter((entry) => entry.level === 40 && entry.unset)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.unset).toEqual(['CRM_BASE_URL'])
    expect(warnings[0]?.msg).toContain('start with MAPPER_VAR_CRM_BASE_URL')

    // The secrets it reads: the signing secret is set, the CRM key is not.
    const secrets = entries.filter((entry) => entry.level === 40 && entry.unsetSecrets)
    expect(secrets.map((entry) => entry.unsetSecrets)).toEqual([['CRM_API_KEY']])
    expect(secrets[0]?.msg).toContain('mapper secret set NAME')
  })

  it('says how to build the editor when its files are missing, instead of a bare 404', async () => {
    const bare = await startTestRuntime({ flows: [], runtime: { editorDir: '/nonexistent/mapper-editor-dist' } })
    try {
      const answer = await fetch(`${bare.url}/flows`)
      expect(answer.status).toBe(503)
      expect(await answer.text()).toContain('npm run build')
      // The API keeps its own answers.
      const api = await fetch(`${bare.url}/api/nothing-here`)
      expect(api.status).toBe(404)
      expect(await api.json()).toMatchObject({ error: { code: 'not_found' } })
      const log = readFileSync(bare.logFile, 'utf8')
      expect(log).toContain('the editor is not built')
    } finally {
      await bare.stop()
    }
  })
})
