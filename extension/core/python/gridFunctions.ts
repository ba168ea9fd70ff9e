/**
 * The top-level functions of a Python source that "Run over a grid…" offers: those with parameters a
 * value can be given to. Read from the text alone (no interpreter), fast enough for every lens refresh.
 */

/** A top-level function with parameters, as the lens offers it. */
export interface GridFunction {
  name: string;
  line: number;
  params: string[];
}

/**
 * Top-level `def name(params):` of a Python source with at least one parameter a value can be given
 * to (not self, *args, **kwargs, the bare * or /). Read from the text: no interpreter needed.
 */
export function gridFunctions(text: string): GridFunction[] {
  const out: GridFunction[] = [];
  const re = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(([\s\S]*?)\)\s*(?:->[^:\n]*)?:/gm;
  for (const m of text.matchAll(re)) {
    if (/^async/.test(m[0])) continue;
    // drop what is inside brackets (annotations such as dict[str, int], default lists) before splitting
    let inner = m[2];
    for (let prev = ''; prev !== inner; ) {
      prev = inner;
      inner = inner.replace(/\([^()]*\)|\[[^[\]]*\]|\{[^{}]*\}|"[^"]*"|'[^']*'/g, '');
    }
    const params = inner
      .split(',')
      .map((p) => p.replace(/#.*$/gm, '').trim().split(/[:=]/)[0].trim())
      .filter((p) => p && p !== '*' && p !== '/' && !p.startsWith('*') && p !== 'self' && p !== 'cls');
    if (params.length === 0) continue;
    out.push({ name: m[1], line: text.slice(0, m.index).split('\n').length - 1, params });
  }
  return out;
}

