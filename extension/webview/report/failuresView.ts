/**
 * The report's failures section: why the run stopped early (if it did), then one block per failure
 * group, largest first — its sentence, how many files, its traceback (the exception line always
 * shown, the frames above it one click away, never clipped), its files, and what to do: re-run these
 * files, open a log, copy the file list, debug a file. Text only (no markup from data).
 */
import type { FailureGroup } from '../../core/run/failureTypes';
import type { RunReport } from '../../core/run/types';
import { type Child, h, linkButton, table } from './dom';
import { baseName } from './format';

/** What the buttons ask the extension host to do; absent in an exported file (no buttons then). */
export interface FailureActions {
  rerunFailed?(): void;
  group?(key: string, action: 'rerun' | 'copy' | 'debug' | 'openLog'): void;
  debugTask?(index: number): void;
  openLog?(index: number, stream: 'stdout' | 'stderr'): void;
}

/** Files listed per group before "… N more" (the file list copies them all). */
const FILES_SHOWN = 20;

export interface FailuresRendered {
  groups: number;
  titles: string[];
  files: string[];
}

/** The failures section's body for a report summary. */
export function failuresBody(s: Pick<RunReport, 'counts' | 'failureGroups' | 'stopped' | 'status'>, actions: FailureActions): { el: HTMLElement; rendered: FailuresRendered } {
  const groups = s.failureGroups ?? [];
  const c = s.counts;
  const failed = c.failed + c.timedOut;
  const rendered: FailuresRendered = { groups: groups.length, titles: groups.map((g) => g.title), files: [] };
  const parts: Child[] = [];
  if (s.stopped) {
    parts.push(h('p', { class: 'callout warning stopped', role: 'alert' }, s.stopped.reason === 'early' ? `Stopped early: ${s.stopped.message}` : s.stopped.message));
  }
  if (failed === 0) {
    parts.push(h('p', { class: 'muted' }, 'No failures.'));
    return { el: h('div', { class: 'failures-body' }, ...parts), rendered };
  }
  const total = c.total ?? c.done;
  parts.push(
    h(
      'div',
      { class: 'failures-head' },
      h('p', { class: 'failures-count' }, `${n(failed)} of ${n(total)} files failed${groups.length ? `, ${groups.length} kind${groups.length === 1 ? '' : 's'} of error (largest first)` : ''}.`),
      actions.rerunFailed && s.status !== 'running' ? button('Re-run failed', `Run the ${n(failed)} failed files again in this run`, () => actions.rerunFailed!(), 'primary') : null,
    ),
  );
  for (const g of groups) parts.push(groupBlock(g, actions, rendered, s.status !== 'running'));
  return { el: h('div', { class: 'failures-body' }, ...parts), rendered };
}

function groupBlock(g: FailureGroup, actions: FailureActions, rendered: FailuresRendered, done: boolean): HTMLElement {
  const act = actions.group;
  const buttons: Child[] = act
    ? [
        done ? button('Re-run these files', `Run these ${n(g.count)} files again in this run`, () => act(g.key, 'rerun')) : null,
        button('Open a log', 'Open the stderr log of the first of these files', () => act(g.key, 'openLog')),
        button('Copy the file list', 'Copy the paths of these files', () => act(g.key, 'copy')),
        button('Debug this file', `Debug ${baseName(g.files[0] ?? '')} with exactly its task's arguments and environment`, () => act(g.key, 'debug')),
      ]
    : [];
  const shown = g.files.slice(0, FILES_SHOWN);
  rendered.files.push(...shown);
  const fileRows = shown.map((f, i): Child[] => [
    h('span', { class: 'file', title: f }, baseName(f)),
    h(
      'span',
      { class: 'links' },
      actions.openLog && g.indexes[i] !== undefined ? linkButton('log', 'Open the stderr log', () => actions.openLog!(g.indexes[i], 'stderr')) : null,
      actions.openLog && actions.debugTask ? ' · ' : null,
      actions.debugTask && g.indexes[i] !== undefined ? linkButton('debug', 'Debug this file', () => actions.debugTask!(g.indexes[i])) : null,
    ),
  ]);
  const more = g.files.length > shown.length ? h('p', { class: 'muted' }, `… and ${n(g.files.length - shown.length)} more (Copy the file list has them all).`) : null;
  return h(
    'div',
    { class: `failure-group kind-${g.kind}`, dataset: { key: g.key } },
    h('div', { class: 'group-title' }, h('span', { class: 'group-count' }, `${n(g.count)} file${g.count === 1 ? '' : 's'}`), ' ', h('span', { class: 'group-error' }, g.title)),
    g.traceback ? traceback(g.traceback) : null,
    buttons.length ? h('div', { class: 'group-actions' }, ...buttons) : null,
    table(['File', ''], fileRows, 'failures'),
    more,
  );
}

/** The exception line always shown (whole, wrapped, never cut); the frames above it expand. */
function traceback(text: string): HTMLElement {
  const lines = text.replace(/\s+$/, '').split('\n');
  // the exception line: the first line at column 0 after the last frame
  let at = lines.length - 1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*File "/.test(lines[i])) break;
    if (lines[i] && !/^\s/.test(lines[i])) at = i;
  }
  const exception = lines.slice(at).join('\n');
  const frames = lines.slice(0, at).join('\n');
  return h(
    'div',
    { class: 'traceback' },
    frames ? h('details', null, h('summary', null, 'Traceback'), h('pre', { class: 'frames' }, frames)) : null,
    h('pre', { class: 'exception' }, exception),
  );
}

function button(text: string, title: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = h('button', { class: `action ${cls}`.trim(), title }, text);
  b.addEventListener('click', onClick);
  return b;
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}
