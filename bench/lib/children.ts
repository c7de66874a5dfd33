/**
 * @module Child processes the benches start: each in its own process group, logged to a file,
 * stopped by pid (SIGTERM, then SIGKILL), and all stopped when the bench exits or is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Child {
  name: string
  pid: number
  logFile: string
  process: ChildProcess
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<string>
}

const running = new Set<Child>()

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the child's own process group (it was spawned detached), so helpers it forked end too.
    process.kill(-child.pid, signal)
  } catch {
    try {
      process.kill(child.pid, signal)
    } catch {
      // already gone
    }
  }
}

function killAllNow(): void {
  for (const child of running) signalGroup(child, 'SIGKILL')
}

let hooked = false
function hookExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', killAllNow)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllNow()
      process.exit(130)
    })
  }
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; logFile: string },
): Child {
  hookExit()
  const fd = openSync(options.logFile, 'a')
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  })
  closeSync(fd)
  if (proc.pid === undefined) throw new Error(`could not start ${name}: ${command} ${args.join(' ')}`)
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ?? String(code)))
  })
  const child: Child = { name, pid: proc.pid, logFile: options.logFile, process: proc, exited }
  running.add(child)
  void exited.then(() => running.delete(child))
  return child
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (!running.has(child)) return
  signalGroup(child, 'SIGTERM')
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)])
  if (!done) {
    signalGroup(child, 'SIGKILL')
    await child.exited
  }
  running.delete(child)
}

export function tailLog(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** Polls `url` until it answers `status`; throws (with the child's log tail) after `timeoutMs` or if it exits. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited: string | undefined
  void child.exited.then((code) => {
    exited = code
  })
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new Error(`${child.name} exited (${exited}) before ${url} answered:\n${tailLog(child)}`)
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await answer.arrayBuffer()
      if (answer.status === status) return
    } catch {
      // not listening yet
    }
    await sleep(150)
  }
  throw new Error(`${child.name} did not answer ${status} at ${url} within ${timeoutMs} ms:\n${tailLog(child)}`)
}
