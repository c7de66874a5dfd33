/** @module Structured JSON logs (pino): request id, event id, flow id and version, node, timings. */
import { type Logger, pino } from 'pino'

export type { Logger }

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.MAPPER_LOG_LEVEL ?? 'info'
  return pino(
    {
      level,
      base: { service: 'mapper' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['headers.authorization', 'headers.cookie', 'secret', 'value'], censor: '[masked]' },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ sync: false }),
  )
}
