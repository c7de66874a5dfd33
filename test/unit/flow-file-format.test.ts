/** @module The flow file format: multi-line JSONata as lines, one-line positions and edges, no version; both forms read. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { documentFromFile, flowFileText, UNNUMBERED_VERSION } from '../../runtime/files/flow-file-format.ts'
import { readFlowFile, writeFlowFile } from '../../runtime/files/flow-files.ts'
import { printJson } from '../../runtime/files/print-json.ts'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { FLOWS_DIR } from '../support/paths.ts'

const MAPPING = '{\n  "id": id,\n  "total": $sum(lines.price)\n}'

function sampleFlow(): FlowDocument {
  return {
    schemaVersion: 1,
    id: 'orders',
    version: 7,
    name: 'Orders',
    trigger: { path: 'shop/orders' },
    nodes: [
      {
        id: 'check',
        kind: 'validate',
        config: { schema: { type: 'object', required: ['id', 'lines'], properties: { id: { type: 'string' } } } },
        position: { x: 0, y: 0 },
      },
      { id: 'once', kind: 'dedupe', config: { key: 'id' }, position: { x: 200, y: 0 } },
      {
        id: 'route',
        kind: 'branch',
        config: { cases: [{ port: 'big', when: '$sum(lines.price)\n  > 100' }] },
        position: { x: 400, y: 0 },
      },
      { id: 'map', kind: 'transform', config: { expression: MAPPING }, position: { x: 600, y: -40 } },
      {
        id: 'send',
        kind: 'http',
        config: { method: 'POST', url: 'https://crm.example/orders', body: '$', retry: { delaysMs: [0, 5000] } },
        position: { x: 800, y: -40.5 },
      },
    ],
    edges: [
      { from: 'check', port: 'ok', to: 'once' },
      { from: 'once', port: 'new', to: 'route' },
      { from: 'route', port: 'big', to: 'map' },
      { from: 'map', port: 'ok', to: 'send' },
    ],
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mapper-file-format-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('flowFileText', () => {
  const text = flowFileText(sampleFlow(), nodeKinds)
  const parsed = JSON.parse(text)

  it('writes a multi-line expression as an array of its lines, so one changed line is one changed line', () => {
    expect(parsed.nodes[3].config.expression).toEqual(['{', '  "id": id,', '  "total": $sum(lines.price)', '}'])
    expect(text).toContain('        "expression": [\n          "{",\n          "  \\"id\\": id,",')
  })

  it('finds expressions where each kind declares them: branch cases too', () => {
    expect(parsed.nodes[2].config.cases[0].when).toEqual(['$sum(lines.price)', '  > 100'])
  })

  it('leaves one-line expressions, and arrays that are not expressions, as they are', () => {
    expect(parsed.nodes[1].config.key).toBe('id')
    expect(parsed.nodes[4].config.body).toBe('$')
    expect(parsed.nodes[0].config.schema.required).toEqual(['id', 'lines'])
    expect(parsed.nodes[4].config.retry.delaysMs).toEqual([0, 5000])
  })

  it('keeps each position and each edge on one line', () => {
    expect(text).toContain('      "position": { "x": 800, "y": -40.5 }\n')
    expect(text).toContain('    { "from": "route", "port": "big", "to": "map" },\n')
  })

  it('writes no version: the runtime numbers the versions it saves', () => {
    expect(parsed).not.toHaveProperty('version')
  })

  it('is canonical: 2-space indent, trailing newline, the same text whatever the key order', () => {
    expect(text.endsWith('}\n')).toBe(true)
    expect(text.split('\n')[1]).toBe('  "schemaVersion": 1,')
    const shuffled = JSON.parse(JSON.stringify(sampleFlow()), (_key, value) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).reverse())
        : value,
    )
    expect(flowFileText(shuffled, nodeKinds)).toBe(text)
  })

  it('reads back to the very document, but for the version', () => {
    const back = documentFromFile(parsed, nodeKinds) as FlowDocument
    expect(canonicalJson({ ...back, version: 7 })).toBe(canonicalJson(sampleFlow()))
  })

  it('round-trips an expression that ends with a newline, and one with blank lines', () => {
    const flow = sampleFlow()
    flow.nodes[3]!.config.expression = '(\n\n  $x := 1;\n  $x\n)\n'
    const back = documentFromFile(JSON.parse(flowFileText(flow, nodeKinds)), nodeKinds) as FlowDocument
    expect(back.nodes[3]?.config.expression).toBe('(\n\n  $x := 1;\n  $x\n)\n')
  })

  for (const name of ['conduit-reports', 'video-generation']) {
    it(`round-trips the example flow ${name}`, () => {
      const doc = JSON.parse(readFileSync(resolve(FLOWS_DIR, `${name}.flow.json`), 'utf8')) as FlowDocument
      const fileText = flowFileText(doc, nodeKinds)
      const back = documentFromFile(JSON.parse(fileText), nodeKinds) as FlowDocument
      expect(canonicalJson({ ...back, version: doc.version })).toBe(canonicalJson(doc))
      expect(flowFileText(back, nodeKinds)).toBe(fileText)
    })
  }
})

describe('reading flow files', () => {
  it('reads the file form and the API form (expressions as strings) to the same document', () => {
    const fileForm = join(dir, 'orders.flow.json')
    const apiForm = join(dir, 'orders-api.flow.json')
    writeFileSync(fileForm, flowFileText(sampleFlow(), nodeKinds))
    writeFileSync(apiForm, canonicalJson(sampleFlow()))
    const a = readFlowFile(fileForm)
    const b = readFlowFile(apiForm)
    expect(a.numbered).toBe(false)
    expect(b.numbered).toBe(true)
    expect(canonicalJson({ ...(a.document as object), version: 7 })).toBe(canonicalJson(b.document))
  })

  it('gives a file without a version the placeholder version, so it can be checked', () => {
    const path = join(dir, 'unnumbered.flow.json')
    writeFileSync(path, flowFileText(sampleFlow(), nodeKinds))
    expect((readFlowFile(path).document as FlowDocument).version).toBe(UNNUMBERED_VERSION)
  })

  it('writes a file once and then leaves it unchanged', () => {
    const path = join(dir, 'out', 'orders.flow.json')
    expect(writeFlowFile(path, sampleFlow())).toBe('written')
    expect(writeFlowFile(path, { ...sampleFlow(), version: 8 })).toBe('unchanged')
    expect(readFileSync(path, 'utf8')).toBe(flowFileText(sampleFlow(), nodeKinds))
  })

  it('hands a file that is not a flow back as it is, for the graph checks to explain', () => {
    expect(documentFromFile([1, 2], nodeKinds)).toEqual([1, 2])
    expect(documentFromFile({ nodes: [{ kind: 'nope', config: { expression: ['a'] } }] }, nodeKinds)).toEqual({
      nodes: [{ kind: 'nope', config: { expression: ['a'] } }],
    })
  })
})

describe('printJson', () => {
  it('writes what JSON.stringify(value, null, 2) writes when nothing is inlined', () => {
    const values = [{ a: [1, { b: [] }, {}], c: null, d: 'x"y\n', e: { f: { g: -1.5e-7 } } }, [], {}, 'text', [[[]]]]
    for (const value of values) expect(printJson(value)).toBe(JSON.stringify(value, null, 2))
  })

  it('inlines only objects of plain values, and JSON.parse reads the same value back', () => {
    const value = { keep: { a: 1, b: 'two' }, nested: { a: { deep: 1 } } }
    const text = printJson(value, (path) => path.length === 1)
    expect(text).toBe('{\n  "keep": { "a": 1, "b": "two" },\n  "nested": {\n    "a": {\n      "deep": 1\n    }\n  }\n}')
    expect(JSON.parse(text)).toEqual(value)
  })
})
