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

/** Annotations a grid value converts to (what `--call` converts by), once brackets are dropped: `Optional[float]` → `Optional`. */
const SCALAR_ANNOTATION = /^(?:int|float|bool|str|complex|(?:pathlib\.)?(?:Pure)?Path|Optional|Union|Literal|(?:typing\.)?(?:Optional|Union|Literal|Any)|numbers\.\w+|np\.(?:float\w*|int\w*|bool_)|numpy\.(?:float\w*|int\w*|bool_))$/;

/**
 * Top-level public `def name(params):` of a Python source with at least one parameter a value can be
 * given to (not self, *args, **kwargs, the bare * or /). Read from the text: no interpreter needed.
 * A parameter annotated with a type a grid value cannot become (an array, a list, a dict, a model
 * object) is left to its default, or, without one, rules the function out: a helper such as
 * `def model(theta: np.ndarray, x)` gets no "Run over a grid…". Names starting with `_` are private.
 */
export function gridFunctions(text: string): GridFunction[] {
  const out: GridFunction[] = [];
  const re = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(([\s\S]*?)\)\s*(?:->[^:\n]*)?:/gm;
  for (const m of text.matchAll(re)) {
    if (/^async/.test(m[0]) || m[1].startsWith('_')) continue;
    // drop what is inside brackets (annotations such as dict[str, int], default lists) before splitting
    let inner = m[2];
    for (let prev = ''; prev !== inner; ) {
      prev = inner;
      inner = inner.replace(/\([^()]*\)|\[[^[\]]*\]|\{[^{}]*\}|"[^"]*"|'[^']*'/g, '');
    }
    const params: string[] = [];
    let usable = true;
    for (const piece of inner.split(',')) {
      const p = piece.replace(/#.*$/gm, '').trim();
      const name = p.split(/[:=]/)[0].trim();
      if (!name || name === '*' || name === '/' || name.startsWith('*') || name === 'self' || name === 'cls') continue;
      const annotation = /^[^:=]*:([^=]*)/.exec(p)?.[1].trim() ?? '';
      if (!annotation || annotation.split('|').every((t) => t.trim() === 'None' || SCALAR_ANNOTATION.test(t.trim()))) params.push(name);
      else if (!p.includes('=')) usable = false; // a required array/object parameter: not a grid function
    }
    if (!usable || params.length === 0) continue;
    out.push({ name: m[1], line: text.slice(0, m.index).split('\n').length - 1, params });
  }
  return out;
}
