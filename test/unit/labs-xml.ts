/**
 * A small, strict XML 1.0 parser for the tests (no XML library is installed): it refuses
 * what a real parser refuses in the documents we write (unbalanced or mismatched tags,
 * unquoted or duplicate attributes, unknown entities, bare '<' or '&', text outside the
 * root, control characters) and returns the element tree with decoded text.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`'<' in text or attribute value at ${where}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(raw)) throw new Error(`control character at ${where}`);
  return raw.replace(/&([^;]*);|&/g, (match, name: string | undefined) => {
    if (name === undefined) throw new Error(`bare '&' at ${where}`);
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    const value = ENTITIES[name];
    if (value === undefined) throw new Error(`unknown entity &${name}; at ${where}`);
    return value;
  });
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(source);
    if (!m) throw new Error(`expected a name at ${i}`);
    i += m[0].length;
    return m[0];
  };
  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  skipSpace();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < source.length) {
    if (source[i] !== '<') {
      const next = source.indexOf('<', i);
      const raw = source.slice(i, next < 0 ? source.length : next);
      const text = decode(raw, i);
      if (stack.length === 0) {
        if (text.trim()) throw new Error(`text outside the root element at ${i}`);
      } else stack[stack.length - 1]!.text += text;
      i = next < 0 ? source.length : next;
      continue;
    }
    if (source.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipSpace();
      if (source[i] !== '>') throw new Error(`expected '>' at ${i}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> does not close <${open?.name ?? 'nothing'}>`);
      continue;
    }
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    i++;
    const element: XmlElement = { name: readName(), attributes: {}, children: [], text: '' };
    if (stack.length === 0 && root) throw new Error(`second root element <${element.name}>`);
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith('/>', i) || source[i] === '>') break;
      if (i === before) throw new Error(`expected whitespace before an attribute at ${i}`);
      const attr = readName();
      if (source[i] !== '=') throw new Error(`expected '=' after ${attr} at ${i}`);
      i++;
      const quote = source[i];
      if (quote !== '"' && quote !== "'") throw new Error(`unquoted value of ${attr} at ${i}`);
      const end = source.indexOf(quote, i + 1);
      if (end < 0) throw new Error(`unterminated value of ${attr}`);
      if (attr in element.attributes) throw new Error(`duplicate attribute ${attr}`);
      element.attributes[attr] = decode(source.slice(i + 1, end), i);
      i = end + 1;
    }
    if (stack.length) stack[stack.length - 1]!.children.push(element);
    else root = element;
    if (source.startsWith('/>', i)) i += 2;
    else {
      i++;
      stack.push(element);
    }
  }
  if (stack.length) throw new Error(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) throw new Error('no root element');
  return root;
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
