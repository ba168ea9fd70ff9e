/**
 * VS Code snippet syntax, expanded the way the editor inserts a snippet when the user accepts every
 * default: `$1`, `${1}`, `${1:default}` (nested, mirrored: a bare `$1` shows the default given
 * elsewhere), `${1|a,b|}` (first choice), `$TM_FILENAME` / `${VAR:default}` variables,
 * `${1/regex/format/flags}` transforms, and the escapes `\$`, `\}`, `\\` (plus `\,` `\|` in choices).
 * Grammar: https://code.visualstudio.com/docs/editor/userdefinedsnippets#_grammar
 */

type SnippetNode =
  | { kind: 'text'; value: string }
  | { kind: 'tabstop'; index: number; children?: SnippetNode[]; transform?: { regex: string; format: string; flags: string } }
  | { kind: 'choice'; index: number; options: string[] }
  | { kind: 'variable'; name: string; children?: SnippetNode[] };

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  /** Parses until `stop` (a `}` closing the enclosing placeholder) or the end. */
  parse(inside = false): SnippetNode[] {
    const out: SnippetNode[] = [];
    let text = '';
    const flush = () => {
      if (text) out.push({ kind: 'text', value: text });
      text = '';
    };
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\' && this.i + 1 < this.s.length && '$}\\'.includes(this.s[this.i + 1])) {
        text += this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (c === '}' && inside) {
        flush();
        return out;
      }
      if (c === '$') {
        const node = this.dollar();
        if (node) {
          flush();
          out.push(node);
          continue;
        }
      }
      text += c;
      this.i++;
    }
    if (inside) throw new SyntaxError(`unclosed placeholder in snippet: ${this.s}`);
    flush();
    return out;
  }

  private dollar(): SnippetNode | undefined {
    const rest = this.s.slice(this.i + 1);
    let m = /^(\d+)/.exec(rest);
    if (m) {
      this.i += 1 + m[1].length;
      return { kind: 'tabstop', index: Number(m[1]) };
    }
    m = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (m) {
      this.i += 1 + m[1].length;
      return { kind: 'variable', name: m[1] };
    }
    if (rest[0] !== '{') return undefined;
    m = /^\{(\d+|[A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (!m) return undefined;
    const id = m[1];
    const numeric = /^\d+$/.test(id);
    this.i += 1 + m[0].length;
    const next = this.s[this.i];
    if (next === '}') {
      this.i++;
      return numeric ? { kind: 'tabstop', index: Number(id) } : { kind: 'variable', name: id };
    }
    if (next === ':') {
      this.i++;
      const children = this.parse(true);
      this.i++; // the closing }
      return numeric ? { kind: 'tabstop', index: Number(id), children } : { kind: 'variable', name: id, children };
    }
    if (next === '|' && numeric) {
      this.i++;
      const options: string[] = [];
      let cur = '';
      while (this.i < this.s.length) {
        const c = this.s[this.i];
        if (c === '\\' && ',|\\$}'.includes(this.s[this.i + 1])) {
          cur += this.s[this.i + 1];
          this.i += 2;
        } else if (c === ',') {
          options.push(cur);
          cur = '';
          this.i++;
        } else if (c === '|' && this.s[this.i + 1] === '}') {
          options.push(cur);
          this.i += 2;
          return { kind: 'choice', index: Number(id), options };
        } else {
          cur += c;
          this.i++;
        }
      }
      throw new SyntaxError(`unclosed choice in snippet: ${this.s}`);
    }
    if (next === '/') {
      const parts: string[] = [];
      let cur = '';
      this.i++;
      while (this.i < this.s.length && parts.length < 3) {
        const c = this.s[this.i];
        if (c === '\\' && this.i + 1 < this.s.length) {
          cur += c + this.s[this.i + 1];
          this.i += 2;
        } else if ((c === '/' && parts.length < 2) || (c === '}' && parts.length === 2)) {
          parts.push(cur);
          cur = '';
          this.i++;
        } else {
          cur += c;
          this.i++;
        }
      }
      const [regex, format, flags] = parts;
      return numeric ? { kind: 'tabstop', index: Number(id), transform: { regex, format, flags } } : { kind: 'variable', name: id };
    }
    throw new SyntaxError(`bad placeholder \${${id}${next}… in snippet`);
  }
}

export interface ExpandContext {
  /** values of variables such as TM_FILENAME; unknown variables expand to their name, as in VS Code */
  variables?: Record<string, string>;
}

/** The text VS Code inserts for `body` (array of lines or one string) when every default is accepted. */
export function expandSnippet(body: string | string[], ctx: ExpandContext = {}): string {
  const text = Array.isArray(body) ? body.join('\n') : body;
  const nodes = new Parser(text).parse();
  const defaults = new Map<number, SnippetNode[]>();
  const collect = (ns: SnippetNode[]): void => {
    for (const n of ns) {
      if (n.kind === 'tabstop' && n.children && !defaults.has(n.index)) defaults.set(n.index, n.children);
      if (n.kind === 'choice' && !defaults.has(n.index)) defaults.set(n.index, [{ kind: 'text', value: n.options[0] }]);
      if ((n.kind === 'tabstop' || n.kind === 'variable') && n.children) collect(n.children);
    }
  };
  collect(nodes);
  const render = (ns: SnippetNode[], depth: number): string => {
    if (depth > 20) throw new RangeError('snippet placeholders nest too deep (recursive mirror?)');
    return ns.map((n) => {
      switch (n.kind) {
        case 'text':
          return n.value;
        case 'choice':
          return n.options[0];
        case 'variable': {
          const v = ctx.variables?.[n.name];
          if (v !== undefined) return v;
          return n.children ? render(n.children, depth + 1) : n.name;
        }
        case 'tabstop': {
          const own = n.children ?? defaults.get(n.index) ?? [];
          const value = render(own, depth + 1);
          if (!n.transform) return value;
          const re = new RegExp(n.transform.regex, n.transform.flags);
          return value.replace(re, (...groups: string[]) => n.transform!.format.replace(/\$\{?(\d+)\}?/g, (_, g: string) => groups[Number(g)] ?? ''));
        }
      }
    }).join('');
  };
  return render(nodes, 0);
}
