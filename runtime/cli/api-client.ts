/** @module How CLI commands talk to a running runtime's admin API: `--server` and `--token`, JSON in and out. */
import { type Command, Option } from 'commander'

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080'
const REQUEST_TIMEOUT_MS = 30_000

export interface ApiTarget {
  server: string
  token?: string
}

/** Adds `--server` (MAPPER_URL, default http://127.0.0.1:8080) and `--token` (MAPPER_TOKEN) to a command. */
export function withApiOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--server <url>', 'base URL of the running runtime').env('MAPPER_URL').default(DEFAULT_SERVER_URL),
    )
    .addOption(new Option('--token <token>', 'API token with the role the command needs').env('MAPPER_TOKEN'))
}

/** The API answered with an error (or could not be reached): the message is the one to print. */
export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message)
    this.name = 'ApiCallError'
  }
}

/** One admin API call: `path` under `/api`; answers the parsed JSON, throws ApiCallError with the API's message. */
export async function callApi<T>(
  target: ApiTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  if (!target.token) throw new ApiCallError('give --token <token> or set MAPPER_TOKEN')
  const url = `${target.server.replace(/\/+$/, '')}/api${path}`
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
    throw new ApiCallError(`cannot reach ${target.server} (${cause}): is \`mapper serve\` running there?`)
  }
  const text = await response.text()
  let answer: unknown
  try {
    answer = text === '' ? null : JSON.parse(text)
  } catch {
    throw new ApiCallError(`${method} ${url}: ${response.status}, not JSON`, response.status)
  }
  if (!response.ok) {
    const error = (answer as { error?: { code?: string; message?: string } } | null)?.error
    throw new ApiCallError(
      `${response.status} ${error?.code ?? 'error'}: ${error?.message ?? response.statusText}`,
      response.status,
      error?.code,
    )
  }
  return answer as T
}

/** Runs a command's action; a failure prints `mapper <command>: <message>` and sets exit code 1. */
export function reportingFailures<A extends unknown[]>(
  name: string,
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args)
    } catch (error) {
      console.error(`mapper ${name}: ${(error as Error).message}`)
      process.exitCode = 1
    }
  }
}

/** Rows as aligned columns, for list commands. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
