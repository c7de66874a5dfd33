/** @module Plain SVG charts: a per-minute series as lines or bars, with a value axis and hover titles. */
import { type RefObject, useEffect, useRef, useState } from 'react'

export interface ChartSeries {
  name: string
  /** A CSS colour, usually an outcome or kind variable. */
  color: string
  values: ReadonlyArray<number | null>
}

interface ChartProps {
  title: string
  labels: readonly string[]
  series: readonly ChartSeries[]
  kind: 'line' | 'bar'
  unit?: string
}

const DEFAULT_WIDTH = 600
const HEIGHT = 170
const PAD = { left: 40, right: 8, top: 10, bottom: 22 }

/** A round upper bound for the value axis: 1, 2, 5 × 10^n. */
function niceMax(max: number): number {
  if (max <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 2, 5, 10]) if (max <= step * power) return step * power
  return 10 * power
}

function formatValue(value: number): string {
  if (value >= 1000) return `${Math.round(value / 100) / 10}k`
  if (Number.isInteger(value)) return String(value)
  return value.toFixed(value < 1 ? 2 : 1)
}

/** Draws at the box's own width, so text and lines are never stretched. */
function useWidth(): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null)
  const [width, setWidth] = useState(DEFAULT_WIDTH)
  useEffect(() => {
    const element = ref.current
    if (!element) return
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(200, Math.round(entry.contentRect.width)))
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  return [ref, width]
}

export function Chart({ title, labels, series, kind, unit = '' }: ChartProps) {
  const [box, WIDTH] = useWidth()
  const count = labels.length
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null))
  const max = niceMax(Math.max(0, ...all))
  const plotW = WIDTH - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const x = (i: number) => PAD.left + (count <= 1 ? plotW / 2 : (i / (count - 1)) * plotW)
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH
  const slot = plotW / Math.max(1, count)
  const barW = Math.max(1, (slot * 0.8) / Math.max(1, series.length))
  const empty = all.every((v) => v === 0)
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.name}>
              <i style={{ background: s.color }} /> {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <div ref={box}>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH} height={HEIGHT} role="img" aria-label={title}>
          {[0, 0.5, 1].map((f) => (
            <g key={f}>
              <line className="chart-grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(max * f)} y2={y(max * f)} />
              <text className="chart-axis" x={PAD.left - 6} y={y(max * f) + 4} textAnchor="end">
                {formatValue(max * f)}
                {f === 1 ? unit : ''}
              </text>
            </g>
          ))}
          {labels.map((label, i) =>
            i % 15 === 0 || i === count - 1 ? (
              <text
                key={label}
                className="chart-axis"
                x={x(i)}
                y={HEIGHT - 6}
                textAnchor={i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle'}
              >
                {label}
              </text>
            ) : null,
          )}
          {kind === 'line' &&
            series.map((s) => (
              <g key={s.name}>
                <polyline
                  className="chart-line"
                  stroke={s.color}
                  points={s.values
                    .map((v, i) => (v === null ? null : `${x(i)},${y(v)}`))
                    .filter(Boolean)
                    .join(' ')}
                />
                {s.values.map((v, i) =>
                  v === null || v === 0 ? null : (
                    // biome-ignore lint/suspicious/noArrayIndexKey: one point per minute
                    <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill={s.color}>
                      <title>{`${labels[i]} · ${s.name}: ${formatValue(v)}${unit}`}</title>
                    </circle>
                  ),
                )}
              </g>
            ))}
          {kind === 'bar' &&
            series.map((s, si) =>
              s.values.map((v, i) =>
                v === null || v === 0 ? null : (
                  <rect
                    // biome-ignore lint/suspicious/noArrayIndexKey: one bar per minute and series
                    key={`${si}-${i}`}
                    x={PAD.left + i * slot + slot * 0.1 + si * barW}
                    y={y(v)}
                    width={barW}
                    height={Math.max(0.5, PAD.top + plotH - y(v))}
                    fill={s.color}
                  >
                    <title>{`${labels[i]} · ${s.name}: ${formatValue(v)}${unit}`}</title>
                  </rect>
                ),
              ),
            )}
          {empty && (
            <text className="chart-empty" x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle">
              nothing in the last hour
            </text>
          )}
        </svg>
      </div>
    </figure>
  )
}
