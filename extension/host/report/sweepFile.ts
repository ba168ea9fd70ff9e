/**
 * Reads `sweep.json` from a run directory into the report's SweepResult. Accepts both the documented
 * shape ({points:[{workers,threads,wallMs,speedup,efficiency,karpFlatt,spread}], fit:{serialFraction}})
 * and the sweep analysis shape (medianMs instead of wallMs, amdahl instead of fit), so the panel does
 * not break when the sweep writer adds fields. No `vscode` import: unit-tested in Node.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LoadSummary } from '../../core/run/types';
import type { SweepPoint, SweepResult } from '../../shared/protocol';

export const SWEEP_FILE = 'sweep.json';

export async function readSweep(runDir: string): Promise<SweepResult | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(path.join(runDir, SWEEP_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return normaliseSweep(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** The SweepResult in `raw`, or undefined when it has no usable points. */
export function normaliseSweep(raw: unknown): SweepResult | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const src = Array.isArray(r.points) ? r.points : [];
  const points: SweepPoint[] = [];
  for (const p of src) {
    if (!p || typeof p !== 'object') continue;
    const q = p as Record<string, unknown>;
    const workers = num(q.workers);
    const speedup = num(q.speedup);
    const wallMs = num(q.wallMs) ?? num(q.medianMs);
    if (workers === undefined || speedup === undefined || wallMs === undefined) continue;
    const threads = num(q.threads) ?? 1;
    points.push({
      workers,
      threads,
      wallMs,
      speedup,
      efficiency: num(q.efficiency) ?? speedup / Math.max(1, workers * threads),
      karpFlatt: num(q.karpFlatt) ?? null,
      spread: num(q.spread) ?? null,
      oversubscribed: q.oversubscribed === true,
    });
  }
  if (points.length === 0) return undefined;
  const fitSrc = (r.fit ?? r.amdahl) as Record<string, unknown> | null | undefined;
  const serialFraction = num(fitSrc?.serialFraction) ?? NaN;
  const rec = r.recommendation as Record<string, unknown> | null | undefined;
  const recommendation =
    rec && num(rec.workers) !== undefined && num(rec.threads) !== undefined
      ? { workers: num(rec.workers)!, threads: num(rec.threads)!, reason: typeof rec.reason === 'string' ? rec.reason : undefined, speedup: num(rec.speedup) }
      : undefined;
  const cores = r.cores as Record<string, unknown> | undefined;
  return {
    points,
    fit: { serialFraction, relError: num(fitSrc?.relError), points: num(fitSrc?.points) },
    sampleFiles: num(r.sampleFiles),
    recommendation,
    createdAt: num(r.createdAt),
    cores: num(cores?.logical),
    load: normaliseLoad(r.load),
  };
}

/** A LoadSummary read from disk, its numbers checked (undefined when absent or malformed). */
export function normaliseLoad(raw: unknown): LoadSummary | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const l = raw as Record<string, unknown>;
  const othersCores = num(l.othersCores);
  const samples = num(l.samples);
  const cores = num(l.cores);
  if (othersCores === undefined || samples === undefined || cores === undefined || othersCores < 0) return undefined;
  return {
    othersCores,
    beforeCores: num(l.beforeCores) ?? null,
    duringCores: num(l.duringCores) ?? null,
    peakCores: num(l.peakCores) ?? othersCores,
    samples,
    busy: l.busy === true,
    cores,
  };
}
