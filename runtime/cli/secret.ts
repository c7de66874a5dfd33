/**
 * @module `mapper secret set|rotate|list`: secrets held by a running runtime (encrypted at rest), through its API.
 *
 * The value comes from `--from-env VAR`, from stdin, or from `--value` (which shell history and `ps` can see).
 */
import { Command, InvalidArgumentError } from 'commander'
import { DEFAULT_ROTATION_OVERLAP_SEC, type SecretView } from '../server/api/secrets.ts'
import { type ApiTarget, callApi, formatTable, reportingFailures, withApiOptions } from './api-client.ts'

interface SetOptions extends ApiTarget {
  value?: string
  fromEnv?: string
  overlapSec?: number
  reason?: string
  json?: boolean
}

export function secretCommand(): Command {
  const secret = new Command('secret').description('secrets of a running runtime: set, rotate, list (never shown)')
  secret.addCommand(
    setOptions(
      new Command('set'),
      'the replaced value stays valid this long (default: 0 for a first value, 3600 when replacing)',
    )
      .description('set a secret (the value from --from-env, stdin or --value)')
      .action(reportingFailures('secret set', (name: string, options: SetOptions) => putSecret(name, options))),
  )
  secret.addCommand(
    setOptions(new Command('rotate'), 'the old value stays valid this long', DEFAULT_ROTATION_OVERLAP_SEC)
      .description('rotate a secret: the new value takes over, the old one is still accepted for --overlap-sec')
      .action(reportingFailures('secret rotate', (name: string, options: SetOptions) => putSecret(name, options))),
  )
  secret.addCommand(
    withApiOptions(new Command('list'))
      .description('names, fingerprints, who set them when, and replaced values still valid')
      .option('--json', 'print JSON')
      .action(
        reportingFailures('secret list', async (options: ApiTarget & { json?: boolean }) => {
          const secrets = await callApi<SecretView[]>(options, 'GET', '/secrets')
          if (options.json) {
            console.log(JSON.stringify(secrets, null, 2))
            return
          }
          console.log(
            formatTable(
              ['NAME', 'FINGERPRINT', 'UPDATED', 'BY', 'PREVIOUS', 'PREVIOUS VALID UNTIL'],
              secrets.map((s) => [
                s.name,
                s.fingerprint,
                s.updatedAt,
                s.updatedBy ?? '-',
                s.previous?.fingerprint ?? '-',
                s.previous?.validUntil ?? '-',
              ]),
            ),
          )
        }),
      ),
  )
  return secret
}

function setOptions(command: Command, overlapHelp: string, overlapDefault?: number): Command {
  return withApiOptions(command)
    .argument('<name>', 'secret name, as flows refer to it: { "ref": "NAME" }')
    .option('--value <value>', 'the value (visible in shell history; prefer --from-env or stdin)')
    .option('--from-env <var>', 'read the value from this environment variable')
    .option('--overlap-sec <n>', overlapHelp, seconds, overlapDefault)
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'print JSON')
}

async function putSecret(name: string, options: SetOptions): Promise<void> {
  const value = await secretValue(options)
  const summary = await callApi<SecretView>(options, 'PUT', `/secrets/${encodeURIComponent(name)}`, {
    value,
    ...(options.overlapSec === undefined ? {} : { overlapSec: options.overlapSec }),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  })
  if (options.json) {
    console.log(JSON.stringify(summary, null, 2))
    return
  }
  const previous = summary.previous
    ? `; previous ${summary.previous.fingerprint} valid until ${summary.previous.validUntil}`
    : ''
  console.log(`${summary.name}: ${summary.fingerprint}${previous}`)
}

async function secretValue(options: SetOptions): Promise<string> {
  if (options.value !== undefined && options.fromEnv !== undefined)
    throw new Error('give --value or --from-env, not both')
  if (options.value !== undefined) return options.value
  if (options.fromEnv !== undefined) {
    const value = process.env[options.fromEnv]
    if (!value) throw new Error(`the environment variable ${options.fromEnv} is not set`)
    return value
  }
  if (process.stdin.isTTY) process.stderr.write('value (then Enter and Ctrl-D): ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // `echo "$SECRET" | mapper secret set NAME` adds a newline that is not part of the secret.
  const value = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (value === '') throw new Error('no value: give --from-env VAR, pipe it on stdin, or --value')
  return value
}

function seconds(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected whole seconds ≥ 0')
  return n
}
