/** @module The `mapper` command line: one file per command, wired here. */
import { Command } from 'commander'
import { validateCommand } from './validate.ts'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('mapper')
    .description('Mapper Studio: visual webhook flows — verify, validate, dedupe, map, branch, call an API.')
    .showHelpAfterError()
  program.addCommand(validateCommand())
  return program
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv)
}
