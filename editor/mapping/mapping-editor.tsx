/**
 * @module The transform mapping editor: the JSONata expression in CodeMirror, a live preview on a sample run by
 * jsonata in the browser, and the visual field mapper drawn from the expression's lineage.
 */
import jsonata from 'jsonata'
import { useEffect, useMemo, useState } from 'react'
import { deriveLineage } from '../../runtime/engine/lineage.ts'
import { splitPath } from '../../runtime/engine/lineage-paths.ts'
import type { Lineage } from '../../runtime/model/node-kind.ts'
import { describeJsonataError } from '../../runtime/nodes/transform.ts'
import { defaultSampleFor, findSample, samplePayloads } from '../fixtures/sample-payloads.ts'
import { JsonBlock } from '../shell/json-tree.tsx'
import { useFlowStore } from '../state/flow-store.ts'
import { CodeEditor } from './code-editor.tsx'
import { writeField } from './expression-edit.ts'
import { FieldMapper } from './field-mapper.tsx'

/** The preview waits for typing to pause this long. */
const PREVIEW_DELAY_MS = 150
const FROM_TEST_RUN = 'test-run'

interface Preview {
  value?: unknown
  error?: string
}

export function MappingEditor({ nodeId, readOnly, onClose }: { nodeId: string; readOnly: boolean; onClose(): void }) {
  const node = useFlowStore((s) => s.nodes.find((n) => n.id === nodeId))
  const updateConfig = useFlowStore((s) => s.updateConfig)
  const triggerPath = useFlowStore((s) => s.meta.trigger.path)
  const flowId = useFlowStore((s) => s.meta.id)
  const stepInput = useFlowStore((s) => s.run?.byNode.get(nodeId)?.input)
  const config = node?.data.node.config ?? {}
  const expression = typeof config.expression === 'string' ? config.expression : ''
  const [sampleId, setSampleId] = useState(() =>
    stepInput === undefined ? defaultSampleFor(triggerPath).id : FROM_TEST_RUN,
  )
  const sample = sampleId === FROM_TEST_RUN ? stepInput : findSample(sampleId)?.payload
  const [lineage, setLineage] = useState<Lineage>(() => lineageOf(expression) ?? {})
  const [parseError, setParseError] = useState<string | undefined>()
  const [preview, setPreview] = useState<Preview>({})
  const [notice, setNotice] = useState<string | undefined>()

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [onClose])

  // Editing the expression redraws the lines and re-runs the preview.
  useEffect(() => {
    let cancelled = false
    const timer = window.setTimeout(() => {
      try {
        setLineage(deriveLineage(expression))
        setParseError(undefined)
      } catch (error) {
        setParseError(describeJsonataError(error))
        return
      }
      const bindings = {
        headers: {},
        event: { id: 'evt_preview', receivedAt: new Date().toISOString(), flowId, flowVersion: 0 },
        vars: {},
      }
      jsonata(expression)
        .evaluate(sample, bindings)
        .then(
          (value) => !cancelled && setPreview({ value: value ?? null }),
          (error: unknown) => !cancelled && setPreview({ error: describeJsonataError(error) }),
        )
    }, PREVIEW_DELAY_MS)
    return () => {
      cancelled = true
      window.clearTimeout(timer)
    }
  }, [expression, sample, flowId])

  const setExpression = (next: string) => updateConfig(nodeId, { ...config, expression: next })

  function map(output: string, input: string) {
    try {
      setExpression(writeField(expression, output, input))
      setNotice(`${output} now reads ${input}`)
    } catch (error) {
      setNotice((error as Error).message)
    }
  }

  const outputNames = useMemo(() => new Set(Object.keys(lineage)), [lineage])
  function newField(input: string) {
    const base = (splitPath(input).at(-1) ?? 'field').replace(/^\$+/, '').replace(/`/g, '') || 'field'
    let name = base
    for (let i = 2; outputNames.has(name); i++) name = `${base}${i}`
    map(name, input)
  }

  if (!node) return null
  return (
    <div className="modal-backdrop">
      <div className="modal mapping-modal" role="dialog" aria-modal="true" aria-labelledby="mapping-title">
        <header className="mapping-head">
          <h2 id="mapping-title">
            Mapping · {node.data.node.name ?? nodeId} <code>{nodeId}</code>
          </h2>
          <label className="inline-field">
            <span>Sample</span>
            <select name="mapping-sample" value={sampleId} onChange={(e) => setSampleId(e.target.value)}>
              {stepInput !== undefined && <option value={FROM_TEST_RUN}>Input of the last test run</option>}
              {samplePayloads.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="primary" onClick={onClose}>
            Done
          </button>
        </header>
        <div className="mapping-top">
          <section className="mapping-expression">
            <h3>Expression</h3>
            <CodeEditor value={expression} onChange={setExpression} readOnly={readOnly} label="JSONata expression" />
            {parseError && (
              <p className="form-error" data-testid="parse-error">
                {parseError}
              </p>
            )}
          </section>
          <section className="mapping-preview" aria-label="Preview">
            <h3>Preview on the sample</h3>
            {preview.error ? (
              <p className="step-error">{preview.error}</p>
            ) : (
              <div data-testid="mapping-preview">
                <JsonBlock value={preview.value} empty="…" />
              </div>
            )}
          </section>
        </div>
        {notice && <p className="mapping-notice small">{notice}</p>}
        <div className="mapping-bottom">
          <FieldMapper
            sample={sample}
            lineage={lineage}
            output={preview.value}
            readOnly={readOnly}
            onMap={map}
            onNewField={newField}
          />
        </div>
      </div>
    </div>
  )
}

function lineageOf(expression: string): Lineage | undefined {
  try {
    return deriveLineage(expression)
  } catch {
    return undefined
  }
}
