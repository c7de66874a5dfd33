/** @module Static lineage of a whole flow version, and its OpenLineage run event with the columnLineage facet. */
import { describe, expect, it } from 'vitest'
import { flowLineage } from '../../runtime/files/flow-lineage.ts'
import { versionOpenLineage, versionRunId } from '../../runtime/files/flow-openlineage.ts'
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { openLineageErrors } from '../support/openlineage-schema.ts'
import { readFlow } from '../support/paths.ts'

function flow(nodes: FlowNode[], edges: FlowEdge[]): FlowDocument {
  return { schemaVersion: 1, id: 'shop', version: 2, name: 'Shop', trigger: { path: 'shop/orders' }, nodes, edges }
}

const byNode = (doc: FlowDocument) => Object.fromEntries(flowLineage(doc, nodeKinds).map((o) => [o.node, o]))

describe('flowLineage', () => {
  it('traces each mapped field of the conduit example to the webhook fields it reads', () => {
    const outputs = byNode(readFlow('conduit-reports') as FlowDocument)
    expect(Object.keys(outputs)).toEqual([
      'map-report',
      'crm-report',
      'map-failure',
      'crm-failure',
      'map-matching',
      'crm-matching',
    ])
    expect(outputs['map-report']?.fields).toEqual({
      externalId: [{ field: 'data.reportId' }],
      jobId: [{ field: 'data.jobId' }],
      status: [{ field: 'data.status' }],
      completedAt: [{ field: 'createdAt' }],
      source: [],
      eventId: [{ field: '$event.id' }],
    })
    // The http node sends the mapped payload as it is: the same lineage.
    expect(outputs['crm-report']?.fields).toEqual(outputs['map-report']?.fields)
    expect(outputs['map-report']?.conditions).toEqual([
      { field: 'id', by: 'dedupe' },
      { field: 'type', by: 'branch' },
    ])
  })

  it('composes an http body expression with the transform before it', () => {
    const outputs = byNode(
      flow(
        [
          { id: 'map', kind: 'transform', config: { expression: '{"amount": order.total, "who": customer.email}' } },
          {
            id: 'send',
            kind: 'http',
            config: { method: 'POST', url: 'https://x.example', body: '{"cents": amount * 100}' },
          },
        ],
        [{ from: 'map', port: 'ok', to: 'send' }],
      ),
    )
    expect(outputs.send?.fields).toEqual({ cents: [{ field: 'order.total' }] })
  })

  it('reads fields after an http node from its answer, not from the webhook', () => {
    const outputs = byNode(
      flow(
        [
          { id: 'lookup', kind: 'http', config: { method: 'GET', url: 'https://x.example/{{id}}' } },
          { id: 'map', kind: 'transform', config: { expression: '{"region": customer.region}' } },
        ],
        [{ from: 'lookup', port: 'ok', to: 'map' }],
      ),
    )
    expect(outputs.lookup?.fields).toEqual({ $: [{ field: '$' }] })
    expect(outputs.map?.fields).toEqual({ region: [{ response: 'lookup', field: 'customer.region' }] })
  })

  it('hands the unmapped payload on behind a transform’s error port', () => {
    const outputs = byNode(
      flow(
        [
          { id: 'map', kind: 'transform', config: { expression: '{"total": order.total}' } },
          { id: 'fallback', kind: 'transform', config: { expression: '{"raw": order}' } },
        ],
        [{ from: 'map', port: 'error', to: 'fallback' }],
      ),
    )
    expect(outputs.fallback?.fields).toEqual({ raw: [{ field: 'order' }] })
  })

  it('reads the conditions of the taken case and of those before it, and gives a node reached twice the union', () => {
    const outputs = byNode(
      flow(
        [
          {
            id: 'route',
            kind: 'branch',
            config: {
              cases: [
                { port: 'eu', when: 'country in ["DE", "FR"]' },
                { port: 'big', when: 'total > 100' },
              ],
            },
          },
          { id: 'eu', kind: 'transform', config: { expression: '{"vat": vatId}' } },
          { id: 'big', kind: 'transform', config: { expression: '{"vat": taxNumber}' } },
          { id: 'send', kind: 'http', config: { method: 'POST', url: 'https://x.example' } },
        ],
        [
          { from: 'route', port: 'eu', to: 'eu' },
          { from: 'route', port: 'big', to: 'big' },
          { from: 'eu', port: 'ok', to: 'send' },
          { from: 'big', port: 'ok', to: 'send' },
        ],
      ),
    )
    expect(outputs.eu?.conditions).toEqual([{ field: 'country', by: 'branch' }])
    expect(outputs.big?.conditions).toEqual([
      { field: 'country', by: 'branch' },
      { field: 'total', by: 'branch' },
    ])
    expect(outputs.send?.fields).toEqual({ vat: [{ field: 'taxNumber' }, { field: 'vatId' }] })
  })
})

describe('versionOpenLineage', () => {
  const doc = readFlow('conduit-reports') as FlowDocument
  const event = versionOpenLineage({ document: doc, savedAt: '2026-03-01T10:00:00.000Z' }, nodeKinds)

  it('is a RunEvent whose outputs carry the columnLineage facet in the 1-2-0 shape', () => {
    expect(openLineageErrors(event)).toEqual([])
  })

  it('names the flow as the job, the webhook as the input and each output node as an output dataset', () => {
    expect(event.job).toMatchObject({ namespace: 'mapper-studio', name: 'conduit-reports' })
    expect(event.inputs.map((input) => input.name)).toEqual(['hooks/conduit/reports'])
    expect(event.outputs.map((output) => output.name)).toContain('conduit-reports/map-report')
    expect(event.eventTime).toBe('2026-03-01T10:00:00.000Z')
  })

  it('points every mapped field at the webhook field it came from', () => {
    const mapReport = event.outputs.find((output) => output.name === 'conduit-reports/map-report')
    expect(mapReport?.facets.columnLineage?.fields.externalId).toEqual({
      inputFields: [
        {
          namespace: 'mapper-studio',
          name: 'hooks/conduit/reports',
          field: 'data.reportId',
          transformations: [
            {
              type: 'DIRECT',
              subtype: 'TRANSFORMATION',
              description: 'JSONata mapping of node map-report',
              masking: false,
            },
          ],
        },
      ],
    })
    expect(mapReport?.facets.columnLineage?.fields.source).toEqual({ inputFields: [] })
    expect(mapReport?.facets.columnLineage?.dataset.map((d) => [d.field, d.transformations[0]?.subtype])).toEqual([
      ['id', 'FILTER'],
      ['type', 'CONDITIONAL'],
    ])
  })

  it('gives one version one run id, and another version another', () => {
    expect(event.run.runId).toBe(versionRunId('mapper-studio', 'conduit-reports', doc.version))
    expect(versionRunId('mapper-studio', 'conduit-reports', 2)).not.toBe(event.run.runId)
    expect(event.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})
