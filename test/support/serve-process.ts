/** @module Runs `mapper serve` as a real child process, for crash and multi-process tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { REPO_ROOT, SCHEMAS_DIR } from './paths.ts'

export interface ServeProcess {
  url: string
  child: ChildProcess
  /** Ends it gracefully (SIGTERM) and waits for the exit. */
  stop(): Promise<number | null>
  kill(signal: NodeJS.Signals): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface ServeProcessOptions {
  flowsDir: string
  dataDir: string
  env: Record<string, string>
  args?: string[]
  logName?: string
}

export async function startServeProcess(options: ServeProcessOptions): Promise<ServeProcess> {
  // A port found free can be taken by another test before the child listens on it: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePort(options)
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 5) throw error
    }
  }
}

class PortTaken extends Error {}

async function startOnFreePort(options: ServeProcessOptions): Promise<ServeProcess> {
  const port = await freePort()
  const log = createWriteStream(join(options.dataDir, options.logName ?? `serve-${port}.log`), { flags: 'a' })
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/mapper.js'),
      'serve',
      '--flows',
      options.flowsDir,
      '--schemas',
      SCHEMAS_DIR,
      '--data',
      options.dataDir,
      '--port',
      String(port),
      ...(options.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      // No load balancer in front of a test's process: it stops at once unless a test asks for a drain delay.
      env: { ...process.env, MAPPER_DRAIN_DELAY_MS: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    await waitReady(url, child)
  } catch (error) {
    // Give the child's last words time to arrive: they say why it did not start.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 500))])
    if (output.includes('EADDRINUSE')) throw new PortTaken(`port ${port} was taken`)
    throw new Error(`${(error as Error).message}; its output ended with:\n${output.slice(-1_500)}`)
  }
  child.stdout?.off('data', keep)
  child.stderr?.off('data', keep)
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
    async kill(signal) {
      child.kill(signal)
      await exited
    },
  }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mapper serve exited with ${child.exitCode} before it was ready`)
    try {
      if ((await fetch(`${url}/readyz`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`mapper serve was not ready within ${timeoutMs} ms`)
}
