/** Tiny DOM builder: data only ever becomes text (textContent), never markup. */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; title?: string; id?: string; role?: string; ariaLabel?: string; dataset?: Record<string, string> } | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props) {
    if (props.class) e.className = props.class;
    if (props.title) e.title = props.title;
    if (props.id) e.id = props.id;
    if (props.role) e.setAttribute('role', props.role);
    if (props.ariaLabel) e.setAttribute('aria-label', props.ariaLabel);
    if (props.dataset) for (const [k, v] of Object.entries(props.dataset)) e.dataset[k] = v;
  }
  append(e, ...children);
  return e;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** A link-styled button (logs open through the host; no href, no navigation). */
export function linkButton(text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', { class: 'link', title }, text);
  b.addEventListener('click', onClick);
  return b;
}

export function table(headers: string[], rows: Child[][], cls = ''): HTMLTableElement {
  return h(
    'table',
    { class: `data ${cls}`.trim() },
    h('thead', null, h('tr', null, ...headers.map((x) => h('th', null, x)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => h('td', null, c))))),
  );
}

/** Summary card: a big number and a caption. */
export function card(label: string, value: string, detail?: string, cls = ''): HTMLElement {
  return h('div', { class: `card ${cls}`.trim() }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), detail ? h('div', { class: 'card-detail' }, detail) : null);
}
