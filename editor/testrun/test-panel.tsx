/** @module The test run panel: a sample or pasted payload, run on the unsaved flow without side effects. */
import { useState } from 'react'
import { type ApiError, api } from '../api/client.ts'
import { formatMs } from '../canvas/flow-node.tsx'
import { defaultSampleFor, findSample, samplePayloads } from '../fixtures/sample-payloads.ts'
import { JsonBlock } from '../shell/json-tree.tsx'
import { useFlowStore } from '../state/flow-store.ts'

const CUSTOM = 'custom'

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

/** Outcomes the runtime reports, drawn with the outcome colours. */
export function outcomeTone(outcome: string | undefined): 'ok' | 'error' | 'muted' | 'pending' {
  if (!outcome) return 'muted'
  if (/complete|accept|ok|success|respond/.test(outcome)) return 'ok'
  if (/dead|reject|error|fail|invalid/.test(outcome)) return 'error'
  if (/retry|pending|processing|queued/.test(outcome)) return 'pending'
  return 'muted'
}

export function TestPanel({ flowId, canTest }: { flowId: string; canTest: boolean }) {
  const triggerPath = useFlowStore((s) => s.meta.trigger.path)
  const run = useFlowStore((s) => s.run)
  const setRun = useFlowStore((s) => s.setRun)
  const select = useFlowStore((s) => s.select)
  const [sampleId, setSampleId] = useState(() => defaultSampleFor(triggerPath).id)
  const [payloadText, setPayloadText] = useState(() => pretty(defaultSampleFor(triggerPath).payload))
  const [headersText, setHeadersText] = useState('')
  const [inputProblem, setInputProblem] = useState<string | undefined>()
  const [failure, setFailure] = useState<ApiError | undefined>()
  const [running, setRunning] = useState(false)

  function pick(id: string) {
    setSampleId(id)
    const sample = findSample(id)
    if (sample) setPayloadText(pretty(sample.payload))
  }

  async function runTest() {
    let payload: unknown
    let headers: Record<string, string> | undefined
    try {
      payload = JSON.parse(payloadText)
    } catch (e) {
      setInputProblem(`The payload is not JSON: ${(e as Error).message}`)
      return
    }
    try {
      headers = headersText.trim() ? (JSON.parse(headersText) as Record<string, string>) : undefined
    } catch (e) {
      setInputProblem(`The headers are not a JSON object: ${(e as Error).message}`)
      return
    }
    setInputProblem(undefined)
    setFailure(undefined)
    setRunning(true)
    try {
      const document = useFlowStore.getState().document()
      const result = await api.testFlow(flowId, { payload, ...(headers ? { headers } : {}), document })
      setRun(result)
      const failed = result.steps.find((s) => s.error)
      if (failed) select([failed.node])
    } catch (e) {
      setFailure(e as ApiError)
      setRun(null)
    } finally {
      setRunning(false)
    }
  }

  const tone = outcomeTone(run?.result.outcome)
  return (
    <div className="test-panel" data-testid="test-panel">
      <h2 className="panel-title">Test run</h2>
      <p className="muted small">
        Runs what is on the canvas, saved or not. HTTP nodes describe their request and send nothing.
      </p>
      <label className="field">
        <span>Sample payload</span>
        <select name="sample" value={sampleId} onChange={(e) => pick(e.target.value)}>
          {samplePayloads.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
          <option value={CUSTOM}>Pasted JSON</option>
        </select>
      </label>
      <label className="field">
        <span>Payload (JSON)</span>
        <textarea
          name="payload"
          className="code-input"
          rows={9}
          spellCheck={false}
          value={payloadText}
          onChange={(e) => {
            setPayloadText(e.target.value)
            setSampleId(CUSTOM)
          }}
        />
      </label>
      <details className="field">
        <summary>Request headers (optional: verify nodes check the signature only when given)</summary>
        <textarea
          name="headers"
          className="code-input"
          rows={3}
          spellCheck={false}
          placeholder='{"conduit-signature": "t=…,v1=…"}'
          value={headersText}
          onChange={(e) => setHeadersText(e.target.value)}
        />
      </details>
      {inputProblem && <p className="form-error">{inputProblem}</p>}
      <div className="button-row">
        <button type="button" className="primary" disabled={!canTest || running} onClick={() => void runTest()}>
          {running ? 'Running…' : 'Run test'}
        </button>
        {run && (
          <button type="button" className="ghost" onClick={() => setRun(null)}>
            Clear result
          </button>
        )}
      </div>
      {!canTest && <p className="muted small">Your role may not run tests (editor or above).</p>}
      {failure && (
        <div className="state state-error" role="alert">
          <strong>The test could not run</strong>
          <div className="state-body">{failure.message}</div>
          {Array.isArray(failure.details) && (
            <ul className="issue-list">
              {(failure.details as Array<{ message?: string }>).map((d, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: details have no id
                <li key={i} className="issue">
                  {d.message ?? JSON.stringify(d)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {run && (
        <section className="run-result" aria-label="Test result">
          <p>
            Outcome{' '}
            <span className={`pill pill-${tone}`} data-testid="run-outcome">
              {run.result.outcome}
            </span>
          </p>
          <ol className="step-list">
            {run.result.steps.map((step, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a node may run more than once
              <li key={`${step.node}-${i}`}>
                <button
                  type="button"
                  className={`step-row${step.error ? ' step-failed' : ''}`}
                  onClick={() => select([step.node])}
                >
                  <span className="step-node">{step.node}</span>
                  <span className="step-port">
                    {step.skipped ? 'skipped' : step.error ? step.error.category : `→ ${step.port ?? 'end'}`}
                  </span>
                  <span className="step-ms">{formatMs(step.durationMs)}</span>
                </button>
                {step.error && <p className="step-error">{step.error.message}</p>}
              </li>
            ))}
          </ol>
          {run.result.steps.length === 0 && <p className="muted">No node ran.</p>}
          <details>
            <summary>Everything the runtime answered</summary>
            <JsonBlock value={run.result} />
          </details>
        </section>
      )}
    </div>
  )
}
