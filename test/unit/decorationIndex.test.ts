/**
 * The Explorer decorations' index (extension/host/failures/decorationIndex.ts): a refresh asks VS
 * Code again only when the marks changed, a lookup returns one decoration per look (no object per
 * file), and marks are interned per look. The provider before fired "everything changed" on every
 * refresh (each progress update of a live run, each run's end) and made two objects per answer.
 */
import * as assert from 'assert';
import { DecorationIndex } from '../../extension/host/failures/decorationIndex';
import { InputMarks } from '../../extension/core/run/inputStatus';
import type { TaskRecord } from '../../extension/core/run/types';

function rec(file: string, status: TaskRecord['status'], title?: string): Pick<TaskRecord, 'file' | 'status' | 'error' | 'exitCode' | 'signal'> {
  return { file, status, exitCode: status === 'succeeded' ? 0 : 1, signal: null, ...(title ? { error: { key: title, kind: 'python', title } as TaskRecord['error'] } : {}) };
}

describe('Explorer decorations: the index', () => {
  it('marks are interned per look: 1,000 inputs with two kinds of failure hold three mark objects', () => {
    const m = new InputMarks('/p');
    for (let i = 0; i < 1000; i++) m.set(rec(`f${i}`, i % 3 === 0 ? 'succeeded' : 'failed', i % 3 === 1 ? "KeyError: 'A'" : 'ValueError'));
    const objects = new Set([...m.entries()].map(([, v]) => v));
    assert.strictEqual(objects.size, 3);
    assert.strictEqual(m.get('/p/f1')!.tooltip, "KeyError: 'A'");
  });

  it('a lookup gives the same decoration object for every input that looks the same, undefined for others', () => {
    let made = 0;
    const index = new DecorationIndex((m) => ({ n: ++made, status: m.status }));
    const marks = new InputMarks('/p');
    for (let i = 0; i < 100; i++) marks.set(rec(`f${i}`, i % 2 ? 'succeeded' : 'failed', 'E'));
    index.update([{ runDir: 'r', marks, live: false }]);
    const a = index.get('/p/f0');
    assert.strictEqual(a, index.get('/p/f2'));
    assert.notStrictEqual(a, index.get('/p/f1'));
    for (let i = 0; i < 100; i++) index.get(`/p/f${i}`);
    assert.strictEqual(made, 2, 'two looks, two decorations');
    assert.strictEqual(index.get('/p/other'), undefined);
  });

  it('a refresh with the same marks asks nothing again; a run that ended with the marks it showed only updates the failed list; another run asks again', () => {
    const index = new DecorationIndex((m) => m.status);
    const live = new InputMarks('/p');
    assert.strictEqual(index.update([{ runDir: 'r1', marks: live, live: true }]), 'all', 'a new run');
    live.set(rec('a', 'failed', 'E'));
    assert.strictEqual(index.get('/p/a'), 'failed', 'a live file that ended is seen at once');
    assert.strictEqual(index.update([{ runDir: 'r1', marks: live, live: true }]), 'none', 'a progress update');
    assert.strictEqual(index.update([{ runDir: 'r1', marks: live, live: false }]), 'context', 'the run ended with its live marks');
    assert.deepStrictEqual(index.failedPaths(10), ['/p/a']);
    assert.strictEqual(index.update([{ runDir: 'r2', marks: new InputMarks('/p'), live: false }]), 'all', 'another run is the latest');
    assert.strictEqual(index.get('/p/a'), undefined);
    assert.strictEqual(index.update([], true), 'all', 'turned off');
  });

  it('with several folders, a path keeps the first folder\'s mark; the failed list spans them up to its maximum', () => {
    const index = new DecorationIndex((m) => m.status);
    const a = new InputMarks('/p');
    const b = new InputMarks('/p');
    a.set(rec('x', 'succeeded'));
    b.set(rec('x', 'failed', 'E'));
    b.set(rec('y', 'failed', 'E'));
    b.set(rec('z', 'timedOut'));
    index.update([{ runDir: 'a', marks: a, live: false }, { runDir: 'b', marks: b, live: false }]);
    assert.strictEqual(index.get('/p/x'), 'succeeded');
    assert.strictEqual(index.get('/p/y'), 'failed');
    assert.strictEqual(index.failedPaths(2).length, 2, 'at most the maximum');
    assert.ok(index.failedPaths(10).includes('/p/z'), 'the second folder\'s failures too');
  });
});
