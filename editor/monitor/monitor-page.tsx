/** @module /monitor — GET /api/metrics/summary as charts: the last hour per minute, and 5 min / 1 h / 24 h figures. */
import { useEffect } from 'react'
import { api } from '../api/client.ts'
import type { MetricsSummary, WindowFigures } from '../api/types.ts'
import { FlowFilter, useAddressFilter } from '../shell/flow-filter.tsx'
import { formatTime, pageTitle } from '../shell/format.tsx'
import { ErrorState, Loading } from '../shell/states.tsx'
import { useResource } from '../shell/use-resource.ts'
import { Chart } from './svg-chart.tsx'
import { VersionFigures } from './version-figures.tsx'

const REFRESH_MS = 10_000

export function MonitorPage() {
  const [flow, setFlow] = useAddressFilter('flow')
  const summary = useResource((signal) => api.metricsSummary(flow || undefined, signal), [flow])
  const { reload } = summary
  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS)
    return () => window.clearInterval(timer)
  }, [reload])

  return (
    <div className="page">
      <title>{pageTitle('Monitor')}</title>
      <div className="page-head">
        <h1>Monitor</h1>
        <div className="filters">
          {summary.data && <span className="muted small">updated {formatTime(summary.data.at)} · every 10 s</span>}
          <FlowFilter value={flow} onChange={setFlow} />
        </div>
      </div>
      {summary.error && <ErrorState error={summary.error} retry={summary.reload} />}
      {!summary.data && !summary.error && <Loading what="figures" />}
      {summary.data && <Figures summary={summary.data} />}
    </div>
  )
}

const minuteLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })

function Figures({ summary }: { summary: MetricsSummary }) {
  const labels = summary.series.map((p) => minuteLabel.format(new Date(p.minute)))
  return (
    <>
      <div className="window-cards" data-testid="windows">
        {summary.windows.map((w) => (
          <WindowCard key={w.window} figures={w} />
        ))}
        {summary.queue && (
          <section className="card window-card">
            <h2>Queue now</h2>
            <dl className="figures">
              <Figure label="pending" value={summary.queue.pending} />
              <Figure label="leased" value={summary.queue.leased} />
              <Figure label="retrying" value={summary.queue.retrying} />
              <Figure
                label="dead letters"
                value={summary.queue.deadLetters}
                tone={summary.queue.deadLetters ? 'error' : undefined}
              />
              <Figure label="oldest due" value={`${Math.round(summary.queue.oldestDueMs / 1000)} s`} />
            </dl>
          </section>
        )}
      </div>
      {summary.canary && summary.versions && <VersionFigures canary={summary.canary} versions={summary.versions} />}
      <div className="charts">
        <section className="card">
          <Chart
            title="Deliveries per minute"
            kind="bar"
            labels={labels}
            series={[
              { name: 'received', color: 'var(--status-accepted)', values: summary.series.map((p) => p.received) },
              { name: 'accepted', color: 'var(--outcome-ok)', values: summary.series.map((p) => p.accepted) },
            ]}
          />
        </section>
        <section className="card">
          <Chart
            title="Acknowledgement time, p99"
            kind="line"
            unit=" ms"
            labels={labels}
            series={[{ name: 'p99', color: 'var(--kind-verify)', values: summary.series.map((p) => p.ackP99) }]}
          />
        </section>
        <section className="card">
          <Chart
            title="Retries and errors per minute"
            kind="bar"
            labels={labels}
            series={[
              { name: 'retries', color: 'var(--outcome-pending)', values: summary.series.map((p) => p.retries) },
              { name: 'errors', color: 'var(--outcome-error)', values: summary.series.map((p) => p.errors) },
            ]}
          />
        </section>
      </div>
    </>
  )
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`
}

function ms(value: number | null): string {
  return value === null ? '—' : `${value < 10 ? value.toFixed(2) : Math.round(value)} ms`
}

function WindowCard({ figures }: { figures: WindowFigures }) {
  const errors = Object.entries(figures.errorsByCategory)
  return (
    <section className="card window-card" data-window={figures.window}>
      <h2>Last {figures.window}</h2>
      <dl className="figures">
        <Figure label="received" value={figures.received} big />
        <Figure label="per second" value={figures.perSecond.toFixed(2)} />
        <Figure label="ack p50 / p99" value={`${ms(figures.ackMs.p50)} / ${ms(figures.ackMs.p99)}`} />
        <Figure label="completed" value={figures.completed} tone="ok" />
        <Figure label="dead" value={figures.dead} tone={figures.dead ? 'error' : undefined} />
        <Figure label="retry rate" value={percent(figures.retryRate)} />
        <Figure label="duplicates" value={percent(figures.dedupeRate)} />
        <Figure label="schema rejects" value={percent(figures.schemaRejectRate)} />
        <Figure label="signature rejects" value={percent(figures.signatureRejectRate)} />
      </dl>
      {errors.length > 0 && (
        <p className="small">
          {errors.map(([category, n]) => (
            <span key={category} className="pill pill-error">
              {category} {n}
            </span>
          ))}
        </p>
      )}
    </section>
  )
}

function Figure({
  label,
  value,
  tone,
  big,
}: {
  label: string
  value: string | number
  tone?: 'ok' | 'error' | undefined
  big?: boolean
}) {
  return (
    <div className={`figure${tone ? ` figure-${tone}` : ''}${big ? ' figure-big' : ''}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  )
}
