// GitHub's text (titles, bodies, names) placed in the rendered Markdown as text: it can never
// break the structure the renderer writes around it. A one-line field loses its line breaks
// and has Markdown's punctuation escaped (a title cannot end its heading or open a link); a
// body is kept as its author's Markdown, but inside a block quote (it cannot pass for the
// renderer's own headings) with `<` written as `&lt;` (no raw HTML or HTML comment can hide
// part of it). Control characters and bidirectional overrides (which reorder what is shown)
// are removed from both.

// C0 (but tab and line feed), DEL, C1, the bidi marks, embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u0085]/g;
const MARKDOWN_PUNCTUATION = /[\\`*_[\]<>#|!~&()]/g;

const textOf = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : '';

/** A one-line field: line breaks and tabs become spaces, Markdown punctuation is escaped. */
export function inline(value: unknown): string {
  return textOf(value)
    .replace(LINE_BREAKS, ' ')
    .replace(/\t/g, ' ')
    .replace(HIDDEN, '')
    .replace(MARKDOWN_PUNCTUATION, '\\$&')
    .trim();
}

/** A body: its author's Markdown inside a block quote, `<` neutralised; `(no text)` when empty. */
export function quoted(value: unknown): string {
  const text = textOf(value).replace(LINE_BREAKS, '\n').replace(HIDDEN, '').replace(/</g, '&lt;').trimEnd();
  if (text.trim() === '') return '> *(no text)*';
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

/** A field that may be missing, in one line: `-` when there is nothing. */
export const orDash = (value: unknown): string => inline(value) || '-';
