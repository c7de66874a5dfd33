/** @module Real Chromium for end-to-end tests (Debian's, see TOOLCHAIN.md), and the built editor they drive. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { REPO_ROOT } from './paths.ts'

export const CHROMIUM_PATH = process.env.MAPPER_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
export const EDITOR_DIST = join(REPO_ROOT, 'dist')

/**
 * Whether browser tests can run here. Without Chromium they are skipped with a message — except in CI
 * (`CI=true`), where a missing browser must fail the run rather than pass it silently.
 */
export function chromiumPresent(): boolean {
  const present = existsSync(CHROMIUM_PATH)
  if (!present && process.env.CI !== 'true') {
    console.warn(
      `Browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set MAPPER_CHROMIUM)`,
    )
  }
  return present || process.env.CI === 'true'
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: browser tests cannot run`)
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Sources the editor bundle is built from. */
const EDITOR_SOURCES = ['editor', 'runtime/model', 'runtime/nodes', 'runtime/engine'].map((d) => join(REPO_ROOT, d))

/** Builds the editor into dist/ when dist/ is missing or older than its sources (one build at a time). */
export function ensureEditorBuilt(): void {
  const index = join(EDITOR_DIST, 'index.html')
  const fresh = () =>
    existsSync(index) && statSync(index).mtimeMs >= Math.max(...EDITOR_SOURCES.map((d) => newestMtime(d)))
  if (fresh()) return
  const lock = join(tmpdir(), 'mapper-editor-build.lock')
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`another build holds ${lock} for too long`)
      spawnSync('sleep', ['0.2'])
    }
  }
  try {
    if (fresh()) return
    const vite = join(REPO_ROOT, 'node_modules', '.bin', 'vite')
    // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    const env = { ...process.env, NODE_ENV: 'production' }
    const build = spawnSync(vite, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, encoding: 'utf8', env })
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`)
  } finally {
    rmdirSync(lock)
  }
}
