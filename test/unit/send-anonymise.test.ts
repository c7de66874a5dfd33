/** @module Anonymised replays: each redacted value becomes a same-typed placeholder, the same for the same value. */
import { describe, expect, it } from 'vitest'
import { createAnonymiser, placeholder } from '../../runtime/cli/send-anonymise.ts'

describe('placeholder', () => {
  it('keeps the JSON type and the shape of emails, UUIDs and timestamps', () => {
    expect(placeholder('ada@example.com', 'k')).toMatch(/^anon-[0-9a-f]{10}@example\.invalid$/)
    expect(placeholder('550e8400-e29b-41d4-a716-446655440000', 'k')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    const time = placeholder('2026-01-17T12:05:00.000Z', 'k') as string
    expect(time).not.toBe('2026-01-17T12:05:00.000Z')
    expect(new Date(time).toISOString()).toBe(time)
    expect(placeholder('Ada Lovelace', 'k')).toMatch(/^anon-[0-9a-f]{10}$/)
    expect(Number.isInteger(placeholder(4242, 'k'))).toBe(true)
    expect(placeholder(4242, 'k')).not.toBe(4242)
    expect(typeof placeholder(12.5, 'k')).toBe('number')
    expect(typeof placeholder(true, 'k')).toBe('boolean')
    expect(placeholder(null, 'k')).toBeNull()
    expect(placeholder({ name: 'Ada', tags: ['x'] }, 'k')).toEqual({
      name: expect.stringMatching(/^anon-/),
      tags: [expect.stringMatching(/^anon-/)],
    })
  })

  it('gives the same placeholder for the same value and key, another for another key', () => {
    expect(placeholder('Ada', 'k')).toBe(placeholder('Ada', 'k'))
    expect(placeholder('Ada', 'k')).not.toBe(placeholder('Ada', 'other key'))
    expect(placeholder('Ada', 'k')).not.toBe(placeholder('Bob', 'k'))
  })
})

describe('createAnonymiser', () => {
  it('replaces the redact paths, wildcards included, and counts them, leaving the input alone', () => {
    const payload = { data: { email: 'a@b.c', items: [{ card: '4111' }, { card: '4242' }], keep: 1 } }
    const { payload: out, count } = createAnonymiser('k').anonymise(payload, [
      '$.data.email',
      '$.data.items[*].card',
      '$.absent',
    ])
    expect(count).toBe(3)
    expect(out).toEqual({
      data: {
        email: expect.stringMatching(/@example\.invalid$/),
        items: [{ card: expect.stringMatching(/^anon-/) }, { card: expect.stringMatching(/^anon-/) }],
        keep: 1,
      },
    })
    expect(payload.data.email).toBe('a@b.c')
  })
})
