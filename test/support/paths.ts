/** @module Where tests find the repo, its flows and schemas, and ../shared (fixtures, vectors). */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const SHARED_DIR = process.env.MAPPER_SHARED_DIR ?? resolve(REPO_ROOT, '../shared')
export const FIXTURES_DIR = resolve(SHARED_DIR, 'fixtures')
export const FLOWS_DIR = resolve(REPO_ROOT, 'flows')
export const SCHEMAS_DIR = resolve(REPO_ROOT, 'schemas')

export function readFixture(name: string): string {
  return readFileSync(resolve(FIXTURES_DIR, name), 'utf8')
}

export function readFlow(id: string): unknown {
  return JSON.parse(readFileSync(resolve(FLOWS_DIR, `${id}.flow.json`), 'utf8'))
}
