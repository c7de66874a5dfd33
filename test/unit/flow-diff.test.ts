/** @module The semantic flow diff on crafted version pairs, and its line diff checked against diff(1). */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { diffFlows } from '../../runtime/files/flow-diff.ts'
import { formatFlowDiff } from '../../runtime/files/flow-diff-text.ts'
import { formatHunks, unifiedHunks } from '../../runtime/files/line-diff.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'

const MAPPING = ['{', '  "externalId": data.reportId,', '  "jobId": data.jobId,', '  "status": data.status', '}']

/** Version 3 of a small flow; each test derives version 4 from it. */
function v3(): FlowDocument {
  return {
    schemaVersion: 1,
    id: 'reports',
    version: 3,
    name: 'Reports',
    trigger: { path: 'conduit/reports', rateLimit: { perSecond: 200, burst: 400 } },
    nodes: [
      { id: 'once', kind: 'dedupe', name: 'Once per id', config: { key: 'id' }, position: { x: 0, y: 0 } },
      {
        id: 'route',
        kind: 'branch',
        config: {
          cases: [
            { port: 'completed', when: 'type = "report.completed"' },
            { port: 'failed', when: 'type = "report.failed"' },
          ],
        },
        position: { x: 200, y: 0 },
      },
      { id: 'map', kind: 'transform', name: 'Report → CRM', config: { expression: MAPPING.join('\n') } },
      {
        id: 'crm',
        kind: 'http',
        config: { method: 'PUT', url: 'https://crm.example/reports/{{externalId}}', timeoutMs: 10000 },
        position: { x: 600, y: 0 },
      },
      { id: 'note', kind: 'transform', config: { expression: '{"failed": true}' }, position: { x: 400, y: 100 } },
    ],
    edges: [
      { from: 'once', port: 'new', to: 'route' },
      { from: 'route', port: 'completed', to: 'map' },
      { from: 'route', port: 'failed', to: 'note' },
      { from: 'map', port: 'ok', to: 'crm' },
    ],
  }
}

function v4(change: (flow: FlowDocument) => void): FlowDocument {
  const flow = structuredClone({ ...v3(), version: 4 })
  change(flow)
  return flow
}

function node(flow: FlowDocument, id: string) {
  const found = flow.nodes.find((n) => n.id === id)
  if (!found) throw new Error(`no node ${id}`)
  return found
}

const diff = (a: FlowDocument, b: FlowDocument, ignorePositions = false) =>
  diffFlows(a, b, nodeKinds, { ignorePositions })
const text = (a: FlowDocument, b: FlowDocument) =>
  formatFlowDiff(diff(a, b), { before: 'reports@3', after: 'reports@4' })

describe('diffFlows on crafted version pairs', () => {
  it('finds nothing between two versions that differ only in their number', () => {
    const result = diff(
      v3(),
      v4(() => {}),
    )
    expect(result.equal).toBe(true)
    expect(
      text(
        v3(),
        v4(() => {}),
      ),
    ).toBe('--- reports@3\n+++ reports@4\nno changes')
  })

  it('names an added node and its new edge', () => {
    const after = v4((flow) => {
      flow.nodes.push({
        id: 'audit',
        kind: 'http',
        name: 'Audit',
        config: { method: 'POST', url: 'https://a.example' },
      })
      flow.edges.push({ from: 'map', port: 'ok', to: 'audit' })
    })
    const result = diff(v3(), after)
    expect(result.equal).toBe(false)
    expect(result.nodes.added).toEqual([{ id: 'audit', kind: 'http', name: 'Audit' }])
    expect(result.edges.added).toEqual([{ from: 'map', port: 'ok', to: 'audit' }])
    expect(text(v3(), after)).toContain('  + added    audit (http "Audit")')
    expect(text(v3(), after)).toContain('  + map:ok → audit')
  })

  it('names a removed node and the edges that went with it', () => {
    const after = v4((flow) => {
      flow.nodes = flow.nodes.filter((n) => n.id !== 'note')
      flow.edges = flow.edges.filter((e) => e.to !== 'note')
    })
    const result = diff(v3(), after)
    expect(result.nodes.removed).toEqual([{ id: 'note', kind: 'transform' }])
    expect(result.edges.removed).toEqual([{ from: 'route', port: 'failed', to: 'note' }])
    expect(result.nodes.changed).toEqual([])
  })

  it('tells a move apart, one line per node, and leaves it out with ignorePositions', () => {
    const after = v4((flow) => {
      node(flow, 'crm').position = { x: 640, y: 40 }
      node(flow, 'map').position = { x: 400, y: -100 }
    })
    const result = diff(v3(), after)
    expect(result.nodes.moved).toEqual([
      { id: 'map', to: { x: 400, y: -100 } },
      { id: 'crm', from: { x: 600, y: 0 }, to: { x: 640, y: 40 } },
    ])
    expect(result.nodes.changed).toEqual([])
    const printed = text(v3(), after)
    expect(printed).toContain('  ~ moved    crm: (600, 0) → (640, 40)')
    expect(printed).toContain('  ~ moved    map: (none) → (400, -100)')
    expect(printed.split('\n').filter((line) => line.includes('~ moved'))).toHaveLength(2)
    expect(diff(v3(), after, true).equal).toBe(true)
  })

  it('names a changed config field by its path, old → new', () => {
    const after = v4((flow) => {
      node(flow, 'crm').config.method = 'PATCH'
      node(flow, 'crm').config.retry = { delaysMs: [0] }
    })
    const result = diff(v3(), after)
    expect(result.nodes.changed).toEqual([
      {
        id: 'crm',
        kind: 'http',
        changes: [
          { path: 'config.method', before: 'PUT', after: 'PATCH' },
          { path: 'config.retry', after: { delaysMs: [0] } },
        ],
      },
    ])
    expect(text(v3(), after)).toContain(
      '      config.method: "PUT" → "PATCH"\n      config.retry: (none) → {"delaysMs":[0]}',
    )
  })

  it('diffs a changed JSONata expression line by line', () => {
    const after = v4((flow) => {
      const lines = [...MAPPING]
      lines[2] = '  "jobId": data.job.id,'
      node(flow, 'map').config.expression = lines.join('\n')
    })
    const [change] = diff(v3(), after).nodes.changed[0]?.changes ?? []
    expect(change?.path).toBe('config.expression')
    expect(formatHunks(change?.hunks ?? [])).toEqual([
      '@@ -1,5 +1,5 @@',
      ' {',
      '   "externalId": data.reportId,',
      '-  "jobId": data.jobId,',
      '+  "jobId": data.job.id,',
      '   "status": data.status',
      ' }',
    ])
    expect(text(v3(), after)).toContain(
      '  ~ changed  map (transform)\n      config.expression:\n        @@ -1,5 +1,5 @@\n' +
        '         {\n           "externalId": data.reportId,\n        -  "jobId": data.jobId,\n' +
        '        +  "jobId": data.job.id,',
    )
  })

  it('shows a one-line condition change on one line, at the case’s path', () => {
    const after = v4((flow) => {
      ;(node(flow, 'route').config.cases as Array<{ when: string }>)[1]!.when = 'type = "report.failed.v2"'
    })
    expect(diff(v3(), after).nodes.changed[0]?.changes).toEqual([
      { path: 'config.cases[1].when', before: 'type = "report.failed"', after: 'type = "report.failed.v2"' },
    ])
  })

  it('calls an edge that now leaves the same port for another node rewired', () => {
    const after = v4((flow) => {
      flow.edges[2] = { from: 'route', port: 'failed', to: 'map' }
    })
    const result = diff(v3(), after)
    expect(result.edges).toEqual({
      added: [],
      removed: [],
      rewired: [{ from: 'route', port: 'failed', before: 'note', after: 'map' }],
    })
    expect(text(v3(), after)).toContain('  ~ route:failed → map (was → note)')
  })

  it('names a renamed node on one line', () => {
    const after = v4((flow) => {
      node(flow, 'map').name = 'Report → CRM record'
      delete node(flow, 'once').name
    })
    expect(diff(v3(), after).nodes.renamed).toEqual([
      { id: 'once', from: 'Once per id' },
      { id: 'map', from: 'Report → CRM', to: 'Report → CRM record' },
    ])
  })

  it('finds a node under a new id instead of a removal and an addition, and maps its edges', () => {
    const after = v4((flow) => {
      node(flow, 'note').id = 'failure-note'
      flow.edges[2] = { from: 'route', port: 'failed', to: 'failure-note' }
    })
    const result = diff(v3(), after)
    expect(result.nodes.reidentified).toEqual([{ from: 'note', to: 'failure-note', kind: 'transform' }])
    expect(result.nodes.added).toEqual([])
    expect(result.nodes.removed).toEqual([])
    expect(result.edges).toEqual({ added: [], removed: [], rewired: [] })
  })

  it('names trigger and retention changes by path', () => {
    const after = v4((flow) => {
      flow.trigger.rateLimit = { perSecond: 100, burst: 400 }
      flow.retention = { rawPayloadDays: 3 }
    })
    expect(diff(v3(), after).flow).toEqual([
      { path: 'retention', after: { rawPayloadDays: 3 } },
      { path: 'trigger.rateLimit.perSecond', before: 200, after: 100 },
    ])
  })

  it('does not count a new order of nodes and edges as a change, but says so', () => {
    const after = v4((flow) => {
      flow.nodes.reverse()
      flow.edges.reverse()
    })
    const result = diff(v3(), after)
    expect(result.equal).toBe(true)
    expect(result.orderChanged).toBe(true)
  })

  it('ends with a summary that counts each kind of change', () => {
    const after = v4((flow) => {
      node(flow, 'crm').position = { x: 1, y: 1 }
      node(flow, 'crm').config.method = 'POST'
      flow.edges.pop()
    })
    expect(text(v3(), after).split('\n').at(-1)).toBe('3 changes (nodes: 1 moved, 1 changed; edges: 1 removed)')
  })
})

describe('unifiedHunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-line-diff-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** The hunks diff(1) prints for the same two texts, headers left out. */
  function diffU(before: string, after: string): string[] {
    writeFileSync(join(dir, 'a'), `${before}\n`)
    writeFileSync(join(dir, 'b'), `${after}\n`)
    const run = spawnSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' })
    return run.stdout.split('\n').slice(2, -1)
  }

  const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`)
  const cases: Array<[string, string[], string[]]> = [
    ['one line changed in the middle', lines(12), lines(12).map((l, i) => (i === 5 ? 'changed' : l))],
    ['two changes far apart: two hunks', lines(30), lines(30).map((l, i) => (i === 2 || i === 25 ? `${l}!` : l))],
    ['two changes close together: one hunk', lines(20), lines(20).map((l, i) => (i === 5 || i === 10 ? `${l}!` : l))],
    ['lines added at the start', lines(6), ['new a', 'new b', ...lines(6)]],
    ['lines removed at the end', lines(9), lines(6)],
    ['everything replaced', lines(3), lines(4, 'other')],
  ]
  for (const [name, before, after] of cases) {
    it(`matches diff -u: ${name}`, () => {
      const ours = formatHunks(unifiedHunks(before.join('\n'), after.join('\n')))
      expect(ours).toEqual(diffU(before.join('\n'), after.join('\n')))
    })
  }

  it('gives no hunks for equal texts', () => {
    expect(unifiedHunks('a\nb', 'a\nb')).toEqual([])
  })
})
