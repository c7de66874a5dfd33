/** @module The `mapper` command line: one file per command, wired here. */
import { Command } from 'commander'
import { sendCommand } from './send.ts'
import { serveCommand } from './serve.ts'
import { validateCommand } from './validate.ts'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('mapper')
    .description('Mapper Studio: visual webhook flows — verify, validate, dedupe, map, branch, call an API.')
    .showHelpAfterError()
  program.addCommand(serveCommand())
  program.addCommand(sendCommand())
  program.addCommand(validateCommand())
  return program
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv)
}
