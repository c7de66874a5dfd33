/**
 * `mapper send --replay-from`: production events stored by runtime A replayed into runtime B (straight from
 * A's data directory, and through a JSON-lines export), the flow's redacted fields anonymised on the way.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SendReport } from '../../runtime/cli/send.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { FLOWS_DIR, REPO_ROOT, readFixture } from '../support/paths.ts'
import { startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const run = promisify(execFile)
const TOKEN_A = 'video-token-a'
const TOKEN_B = 'video-token-b'
const PROMPT = 'A serene mountain landscape with clouds'
const FIXTURES = ['completed', 'failed', 'cancelled', 'progress']

async function mapperSend(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), 'send', ...args], {
    cwd: REPO_ROOT,
  })
  return stdout
}

describe('mapper send --replay-from', () => {
  let app: DownstreamMock
  let a: TestRuntime
  let b: TestRuntime
  let c: TestRuntime
  const flowFile = join(FLOWS_DIR, 'video-generation.flow.json')

  const runtime = (token: string) =>
    startTestRuntime({
      flows: ['video-generation'],
      secrets: { VIDEO_WEBHOOK_TOKEN: [token], APP_API_TOKEN: ['app'] },
      vars: { APP_BASE_URL: app.url },
    })

  beforeAll(async () => {
    app = await startDownstreamMock()
    ;[a, b, c] = await Promise.all([runtime(TOKEN_A), runtime(TOKEN_B), runtime(TOKEN_B)])
    for (const name of FIXTURES) {
      const answer = await a.post('/hooks/video/generation', readFixture(`video/${name}.json`), {
        authorization: `Bearer ${TOKEN_A}`,
      })
      expect(answer.status).toBe(202)
      await waitForEvent(a, answer.body.eventId)
    }
    // Neither a test event nor a refused one is a production payload: replay leaves them out.
    const test = readFixture('video/completed.json').replace('550e8400', '660e8400')
    expect(
      (await a.post('/hooks/video/generation', test, { authorization: `Bearer ${TOKEN_A}`, 'x-mapper-test': '1' }))
        .status,
    ).toBe(202)
    expect((await a.post('/hooks/video/generation', '{}', { authorization: `Bearer ${TOKEN_A}` })).status).toBe(422)
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()])
    await app?.stop()
  })

  async function storedBodies(rt: TestRuntime): Promise<Array<Record<string, unknown>>> {
    const page = await rt.api('/api/events?flow=video-generation&limit=50')
    const bodies = []
    for (const item of page.items) bodies.push(JSON.parse((await rt.api(`/api/events/${item.id}`)).rawBody))
    return bodies
  }

  it('replays the stored production events of A into B, signed for B, with the redacted prompt anonymised', async () => {
    const stdout = await mapperSend(
      '--replay-from',
      a.dataDir,
      '--flow',
      flowFile,
      '--server',
      b.url,
      '--secret',
      TOKEN_B,
      '--json',
    )
    const report = JSON.parse(stdout) as SendReport
    expect(report.replay).toEqual({ from: a.dataDir, events: 4, anonymised: 3 })
    expect(report.byStatus).toEqual({ 202: 4 })
    expect(report.ok).toBe(true)

    const original = FIXTURES.map((name) => JSON.parse(readFixture(`video/${name}.json`)) as Record<string, unknown>)
    const replayed = await storedBodies(b)
    expect(replayed).toHaveLength(4)
    const prompts = replayed.filter((body) => 'prompt' in body).map((body) => body.prompt)
    expect(prompts).toHaveLength(3)
    // One placeholder for one original value, a string like the original, never the original.
    expect(new Set(prompts).size).toBe(1)
    expect(prompts[0]).toMatch(/^anon-[0-9a-f]{10}$/)
    expect(JSON.stringify(replayed)).not.toContain(PROMPT)
    // Everything that was not redacted arrives as it was stored.
    for (const body of replayed) {
      const source = original.find((o) => o.status === body.status) as Record<string, unknown>
      expect({ ...body, prompt: source.prompt }).toEqual(source)
    }
  })

  it('exports the anonymised events as JSON lines, which replay into another runtime', async () => {
    const file = join(a.dataDir, 'video-events.jsonl')
    const exported = await mapperSend(
      '--replay-from',
      a.dataDir,
      '--flow',
      flowFile,
      '--export-to',
      file,
      '--anonymise-key',
      'k1',
    )
    expect(exported.trim()).toBe(`exported   4 events to ${file} (3 values anonymised)`)
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(4)
    for (const line of lines) {
      const record = JSON.parse(line)
      expect(record).toMatchObject({ format: 'mapper-event/1', flowId: 'video-generation', anonymised: true })
      expect(record.body).not.toContain(PROMPT)
    }
    const stdout = await mapperSend('--replay-from', file, '--flow', flowFile, '--server', c.url, '--secret', TOKEN_B)
    expect(stdout).toContain(`replayed   4 stored events from ${file}`)
    expect(stdout).toContain('answers    202 ×4')
    expect(JSON.stringify(await storedBodies(c))).not.toContain(PROMPT)
  })
})
