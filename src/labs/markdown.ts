/**
 * Step texts are markdown; this renders the part of it lab texts use for a terminal:
 * headings, paragraphs (re-wrapped to the width), bullet and numbered lists, code blocks
 * (indented, kept as written so they can be copied), inline code, bold, emphasis and links.
 * Without colour (no TTY, NO_COLOR) it is plain text with the same layout.
 */

export interface RenderOptions {
  width: number;
  color: boolean;
}

const ANSI = {
  bold: ['\u001b[1m', '\u001b[22m'],
  italic: ['\u001b[3m', '\u001b[23m'],
  underline: ['\u001b[4m', '\u001b[24m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
  dim: ['\u001b[2m', '\u001b[22m'],
} as const;

function style(text: string, kind: keyof typeof ANSI, color: boolean): string {
  return color ? `${ANSI[kind][0]}${text}${ANSI[kind][1]}` : text;
}

/** Inline markup: `code`, **bold**, *emphasis* / _emphasis_, [text](url). */
export function renderInline(text: string, color: boolean): string {
  const parts = text.split(/(`[^`]+`)/);
  return parts
    .map((part) => {
      if (part.startsWith('`') && part.endsWith('`') && part.length > 1) return style(part.slice(1, -1), 'cyan', color);
      return part
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label: string, url: string) => `${label} (${url})`)
        .replace(/\*\*([^*]+)\*\*/g, (_m, t: string) => style(t, 'bold', color))
        .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, (_m, pre: string, t: string) => `${pre}${style(t, 'italic', color)}`);
    })
    .join('');
}

/** Visible length, without ANSI sequences. */
function visible(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Word-wraps rendered text; `indent` starts continuation lines. */
function wrap(text: string, width: number, firstPrefix: string, indent: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = firstPrefix;
  let empty = true;
  for (const word of words) {
    const candidate = empty ? `${line}${word}` : `${line} ${word}`;
    if (!empty && visible(candidate) > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else {
      line = candidate;
    }
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

export function renderMarkdown(markdown: string, options: RenderOptions): string {
  const { width, color } = options;
  const out: string[] = [];
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  let paragraph: string[] = [];
  let listItem: { prefix: string; indent: string; words: string[] } | undefined;

  const flushParagraph = () => {
    if (paragraph.length) out.push(...wrap(renderInline(paragraph.join(' '), color), width, '', ''));
    paragraph = [];
  };
  const flushItem = () => {
    if (listItem) out.push(...wrap(renderInline(listItem.words.join(' '), color), width, listItem.prefix, listItem.indent));
    listItem = undefined;
  };
  const flush = () => {
    flushParagraph();
    flushItem();
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^(\s*)(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const block: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence[2]!); i++) block.push(lines[i]!);
      out.push(...block.map((l) => style(`    ${l}`, 'cyan', color)));
      continue;
    }
    if (line.trim() === '') {
      flush();
      if (out.length && out[out.length - 1] !== '') out.push('');
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const text = renderInline(heading[2]!.trim(), false);
      out.push(heading[1]!.length === 1 ? style(style(text, 'bold', color), 'underline', color) : style(text, 'bold', color));
      continue;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const depth = Math.floor(item[1]!.length / 2);
      const marker = /\d/.test(item[2]!) ? item[2]!.replace(')', '.') : '•';
      const prefix = `${'  '.repeat(depth + 1)}${marker} `;
      listItem = { prefix, indent: ' '.repeat(prefix.length), words: [item[3]!] };
      continue;
    }
    if (/^ {4,}|\t/.test(line) && paragraph.length === 0 && !listItem) {
      out.push(style(`    ${line.trim()}`, 'cyan', color));
      continue;
    }
    if (listItem) listItem.words.push(line.trim());
    else paragraph.push(line.trim());
  }
  flush();
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

/** How wide to render for a stream: its columns on a terminal (at most 100), else 80. */
export function renderWidth(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY && stream.columns ? Math.max(40, Math.min(stream.columns, 100)) : 80;
}

/** Colour on a terminal, unless NO_COLOR or TERM=dumb say otherwise. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}
