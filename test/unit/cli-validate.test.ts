/** @module `mapper validate` as users run it: a real process, real files, exit codes and messages. */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, it } from 'vitest'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import { REPO_ROOT } from '../support/paths.ts'

const BIN = resolve(REPO_ROOT, 'bin/mapper.js')

interface Outcome {
  code: number | null
  stdout: string
  stderr: string
}

function mapper(...args: string[]): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'mapper-validate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes `<dir>/<name>` and returns its path. */
function writeFlowFile(name: string, content: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : canonicalJson(content))
  return path
}

function smallFlow(id: string, changes: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    id,
    version: 1,
    name: 'A small flow',
    trigger: { path: `test/${id}`, respond: 'accepted' },
    nodes: [
      {
        id: 'verify',
        kind: 'verify',
        config: { scheme: 'stripe', header: 'conduit-signature', secret: { ref: 'CONDUIT_WEBHOOK_SECRET' } },
      },
      { id: 'map', kind: 'transform', config: { expression: '{ "id": id }' } },
    ],
    edges: [{ from: 'verify', port: 'ok', to: 'map' }],
    ...changes,
  }
}

// Each case is its own process, so they run side by side; `expect` comes from each test's context.
describe.concurrent('mapper validate', () => {
  it('exits 0 with a ✓ line per example flow', async ({ expect }) => {
    const outcome = await mapper('validate', 'flows/conduit-reports.flow.json', 'flows/video-generation.flow.json')
    expect(outcome.code, outcome.stderr).toBe(0)
    expect(outcome.stdout).toContain('✓ flows/conduit-reports.flow.json')
    expect(outcome.stdout).toContain('✓ flows/video-generation.flow.json')
    expect(outcome.stdout).toContain('2 valid, 0 invalid')
    expect(outcome.stdout).not.toContain('✗')
  })

  it('checks every flow under flows/ when given no files', async ({ expect }) => {
    const outcome = await mapper('validate')
    expect(outcome.code, outcome.stderr).toBe(0)
    expect(outcome.stdout).toMatch(/✓ flows\/conduit-reports\.flow\.json\s+\(conduit-reports v\d+, \d+ nodes/)
    expect(outcome.stdout).toContain('✓ flows/video-generation.flow.json')
  })

  it('exits 1 on an edge from a port the node does not have, naming the node and the field', async ({ expect }) => {
    const path = writeFlowFile(
      'bad-port.flow.json',
      smallFlow('bad-port', { edges: [{ from: 'verify', port: 'verified', to: 'map' }] }),
    )
    const outcome = await mapper('validate', path)
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toContain(`✗ ${path}`)
    expect(outcome.stdout).toContain('node "verify" edges[0].port: node "verify" has no port "verified"')
    expect(outcome.stdout).toContain('0 valid, 1 invalid')
  })

  it('exits 1 on a secret written into the flow, naming the node and the field', async ({ expect }) => {
    const flow = smallFlow('literal-secret')
    const verify = flow.nodes[0] as { config: Record<string, unknown> }
    verify.config.secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const path = writeFlowFile('literal-secret.flow.json', flow)
    const outcome = await mapper('validate', path)
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toContain('node "verify" config.secret: holds a secret value')
    expect(outcome.stdout).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
  })

  it('exits 1 on a file that is not JSON, saying at which line and column', async ({ expect }) => {
    const text = '{\n  "schemaVersion": 1,\n  "id": "not-json",\n}\n'
    const path = writeFlowFile('not-json.flow.json', text)
    const outcome = await mapper('validate', path)
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toMatch(/not JSON at line 4, column 1/)
  })

  it('exits 1 on a file whose name does not match the flow’s id', async ({ expect }) => {
    const path = writeFlowFile('other-name.flow.json', smallFlow('small-flow'))
    const outcome = await mapper('validate', path)
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toContain('the file is named other-name.flow.json but the flow\'s id is "small-flow"')
  })

  it('exits 1 when one file of several is broken, and still reports the good ones', async ({ expect }) => {
    const good = writeFlowFile('good.flow.json', smallFlow('good'))
    const bad = writeFlowFile('bad-kind.flow.json', {
      ...smallFlow('bad-kind'),
      nodes: [...smallFlow('bad-kind').nodes, { id: 'tele', kind: 'teleport', config: {} }],
      edges: [...smallFlow('bad-kind').edges, { from: 'map', port: 'ok', to: 'tele' }],
    })
    const outcome = await mapper('validate', good, bad)
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toContain(`✓ ${good}`)
    expect(outcome.stdout).toContain(`✗ ${bad}`)
    expect(outcome.stdout).toContain('node "tele" kind: kind "teleport" is not one of')
    expect(outcome.stdout).toContain('1 valid, 1 invalid')
  })

  it('notes a valid flow that is not in canonical form without failing it', async ({ expect }) => {
    const path = writeFlowFile('compact.flow.json', JSON.stringify(smallFlow('compact')))
    const outcome = await mapper('validate', path)
    expect(outcome.code, outcome.stdout).toBe(0)
    expect(outcome.stdout).toContain('note: not in canonical form')
  })

  it('checks an event schema file', async ({ expect }) => {
    const outcome = await mapper('validate', 'schemas/conduit/event.v1.schema.json')
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0)
    expect(outcome.stdout).toContain('✓ schemas/conduit/event.v1.schema.json  (JSON Schema compiles)')
  })
})
