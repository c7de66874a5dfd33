/** @module JSONata for CodeMirror 6: a small stream tokenizer and the colours of its tokens. */
import { HighlightStyle, StreamLanguage, type StreamParser, syntaxHighlighting } from '@codemirror/language'
import type { Extension } from '@codemirror/state'
import { tags } from '@lezer/highlight'

interface TokenState {
  inComment: boolean
}

const KEYWORDS = /^(and|or|in|true|false|null|function)\b/
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
const OPERATOR = /^(:=|!=|<=|>=|~>|\.\.|\*\*|[-+*/%&=<>?:.,;|^!~#@])/

const tokenizer: StreamParser<TokenState> = {
  name: 'jsonata',
  startState: () => ({ inComment: false }),
  token(stream, state) {
    if (state.inComment) {
      while (!stream.eol()) {
        if (stream.match('*/')) {
          state.inComment = false
          return 'comment'
        }
        stream.next()
      }
      return 'comment'
    }
    if (stream.eatSpace()) return null
    if (stream.match('/*')) {
      state.inComment = true
      return 'comment'
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/) || stream.match(/^'(?:[^'\\]|\\.)*'?/)) return 'string'
    if (stream.match(/^`[^`]*`?/)) return 'propertyName'
    if (stream.match(NUMBER)) return 'number'
    if (stream.match(/^\$[A-Za-z0-9_]*/)) return 'variableName'
    if (stream.match(KEYWORDS)) return 'keyword'
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return 'propertyName'
    if (stream.match(OPERATOR)) return 'operator'
    if (stream.match(/^[{}[\]()]/)) return 'bracket'
    stream.next()
    return null
  },
  languageData: { commentTokens: { block: { open: '/*', close: '*/' } } },
}

const jsonataStyle = HighlightStyle.define([
  { tag: tags.string, color: '#15803d' },
  { tag: tags.number, color: '#b45309' },
  { tag: tags.keyword, color: '#7c3aed', fontWeight: '600' },
  { tag: tags.variableName, color: '#db2777' },
  { tag: tags.propertyName, color: '#1d4ed8' },
  { tag: tags.operator, color: '#64748b' },
  { tag: tags.bracket, color: '#475569' },
  { tag: tags.comment, color: '#94a3b8', fontStyle: 'italic' },
])

export function jsonataLanguage(): Extension {
  return [StreamLanguage.define(tokenizer), syntaxHighlighting(jsonataStyle)]
}
