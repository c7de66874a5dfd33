/** @module Canonical flow files: a change in the editor gives a small, readable git diff. */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalize, canonicalJson } from '../../runtime/model/canonical-json.ts'
import { FLOWS_DIR } from '../support/paths.ts'

describe('canonicalJson', () => {
  it('writes the same text whatever order the keys arrived in', () => {
    const a = { nodes: [], id: 'f', schemaVersion: 1, zeta: 1, alpha: { y: 2, x: 1 }, version: 2 }
    const b = { alpha: { x: 1, y: 2 }, version: 2, zeta: 1, schemaVersion: 1, nodes: [], id: 'f' }
    expect(canonicalJson(a)).toBe(canonicalJson(b))
  })

  it('puts the document’s own keys in reading order, then any other key alphabetically', () => {
    const doc = {
      edges: [],
      nodes: [],
      zebra: true,
      retention: {},
      apple: true,
      trigger: {},
      description: 'd',
      name: 'n',
      version: 1,
      id: 'f',
      schemaVersion: 1,
    }
    expect(Object.keys(canonicalize(doc) as object)).toEqual([
      'schemaVersion',
      'id',
      'version',
      'name',
      'description',
      'trigger',
      'retention',
      'nodes',
      'edges',
      'apple',
      'zebra',
    ])
  })

  it('orders keys inside nested objects too', () => {
    const node = { position: { y: 1, x: 0 }, config: { toleranceSec: 300, scheme: 'stripe' }, kind: 'verify', id: 'v' }
    expect(canonicalJson(node)).toBe(
      '{\n  "id": "v",\n  "kind": "verify",\n  "config": {\n    "scheme": "stripe",\n    "toleranceSec": 300\n  },\n' +
        '  "position": {\n    "x": 0,\n    "y": 1\n  }\n}\n',
    )
  })

  it('indents with two spaces and ends with one newline', () => {
    const text = canonicalJson({ id: 'f', nodes: [{ id: 'a' }] })
    expect(text).toBe('{\n  "id": "f",\n  "nodes": [\n    {\n      "id": "a"\n    }\n  ]\n}\n')
    expect(text.endsWith('}\n')).toBe(true)
    expect(text.endsWith('\n\n')).toBe(false)
  })

  it('keeps arrays in their order, since node and edge order is the user’s', () => {
    const edges = [
      { to: 'c', from: 'b', port: 'ok' },
      { to: 'b', from: 'a', port: 'ok' },
    ]
    expect(canonicalize({ edges })).toEqual({
      edges: [
        { from: 'b', port: 'ok', to: 'c' },
        { from: 'a', port: 'ok', to: 'b' },
      ],
    })
    expect(canonicalJson([3, 1, 2])).toBe('[\n  3,\n  1,\n  2\n]\n')
  })

  it('drops keys whose value is undefined, and keeps null', () => {
    expect(canonicalJson({ id: 'f', description: undefined, name: null })).toBe('{\n  "id": "f",\n  "name": null\n}\n')
  })

  it('leaves scalars as they are', () => {
    expect(canonicalJson('text')).toBe('"text"\n')
    expect(canonicalJson(42)).toBe('42\n')
    expect(canonicalJson(null)).toBe('null\n')
  })

  it('gives the same text when run on its own output', () => {
    const once = canonicalJson({ b: { d: 1, c: [{ z: 1, a: 2 }] }, a: 0 })
    expect(canonicalJson(JSON.parse(once))).toBe(once)
  })

  for (const file of ['conduit-reports.flow.json', 'video-generation.flow.json']) {
    it(`round-trips flows/${file} byte for byte`, () => {
      const text = readFileSync(resolve(FLOWS_DIR, file), 'utf8')
      expect(canonicalJson(JSON.parse(text))).toBe(text)
    })
  }
})
