/** @module The BASELINE target: bench/lib/baseline-server.mjs as a child process. */
import { join } from 'node:path'
import { type Child, startChild, waitForHttp } from './children.ts'
import { CONDUIT_SECRET_ENV } from './events.ts'

const SCRIPT = join(import.meta.dirname, 'baseline-server.mjs')

export async function startBaseline(port: number, options: { secret: string; workDir: string }): Promise<Child> {
  const child = startChild('baseline', process.execPath, [SCRIPT, String(port)], {
    env: { [CONDUIT_SECRET_ENV]: options.secret },
    logFile: join(options.workDir, 'baseline.log'),
  })
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, child, 15_000)
  return child
}
