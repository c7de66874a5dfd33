/** @module The monitor's canary section: while a canary runs, the flow's figures per version, side by side. */
import type { CanarySummary, WindowFigures } from '../api/types.ts'

/** The windows compared: recent enough to judge a canary by. */
const COMPARED = ['5m', '1h']

function errors(figures: WindowFigures): number {
  return Object.values(figures.errorsByCategory).reduce((sum, n) => sum + (n ?? 0), 0)
}

function ms(value: number | null): string {
  return value === null ? '—' : `${value < 10 ? value.toFixed(2) : Math.round(value)} ms`
}

export function VersionFigures({ canary, versions }: CanarySummary) {
  return (
    <section className="card" data-testid="version-figures">
      <h2>
        Canary: v{canary.version} takes {canary.percent} % of new events, v{canary.stableVersion} the rest
      </h2>
      <table className="table compact">
        <thead>
          <tr>
            <th>version</th>
            <th>window</th>
            <th className="num">received</th>
            <th className="num">completed</th>
            <th className="num">dead</th>
            <th className="num">errors</th>
            <th className="num">ack p99</th>
          </tr>
        </thead>
        <tbody>
          {versions.flatMap((v) =>
            v.windows
              .filter((w) => COMPARED.includes(w.window))
              .map((w) => (
                <tr key={`${v.version}-${w.window}`} data-version={v.version} data-window={w.window}>
                  <td>
                    v{v.version}{' '}
                    <span className={`pill ${v.role === 'canary' ? 'pill-pending' : 'pill-ok'}`}>{v.role}</span>
                  </td>
                  <td>{w.window}</td>
                  <td className="num">{w.received}</td>
                  <td className="num">{w.completed}</td>
                  <td className="num">{w.dead}</td>
                  <td className="num">{errors(w)}</td>
                  <td className="num">{ms(w.ackMs.p99)}</td>
                </tr>
              )),
          )}
        </tbody>
      </table>
    </section>
  )
}
