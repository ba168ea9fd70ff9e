/**
 * The BLAS library behind an interpreter, for the report's thread settings ("the interpreter and
 * its BLAS library when known"). One cheap probe per interpreter (media/python/blas_probe.py: imports
 * numpy, asks the loaded BLAS), run in the background and cached for the session: the same executable
 * loads the same BLAS, so a report of an earlier run of that interpreter can say it too.
 * The interpreter is named by the report being shown (report.json / run.json, i.e. a file in the
 * workspace): while the core's process gate is closed (an untrusted workspace) nothing is probed and
 * the label stays unknown; nothing is cached either, so trusting the workspace brings it back.
 * No `vscode` import.
 */
import { blasProbeScript, envWithThreads, parseProbeOutput, runProbe } from '../../core/python/blasProbe';
import { mayStartProcess } from '../../core/processGate';

export class BlasOfPython {
  /** executable → label ("OpenBLAS 0.3.21 (pthreads)"), null when the probe found none */
  private readonly known = new Map<string, string | null>();
  private readonly pending = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly mediaDir: string,
    private readonly timeoutMs = 20_000,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** What is known now, without waiting; starts the probe when this interpreter was never probed. */
  peek(python: string): string | undefined {
    if (!this.known.has(python)) void this.get(python);
    return this.known.get(python) ?? undefined;
  }

  /** The label, probing once per interpreter (undefined: no numpy, no BLAS found, or the probe failed). */
  get(python: string): Promise<string | undefined> {
    if (this.known.has(python)) return Promise.resolve(this.known.get(python) ?? undefined);
    if (!mayStartProcess(`probe the BLAS library of ${python}`)) return Promise.resolve(undefined);
    let p = this.pending.get(python);
    if (!p) {
      p = this.probe(python);
      this.pending.set(python, p);
    }
    return p;
  }

  private async probe(python: string): Promise<string | undefined> {
    let label: string | null = null;
    try {
      // one BLAS thread: the probe only asks which library is loaded, it needs no thread pool
      const info = parseProbeOutput(await runProbe(python, blasProbeScript(this.mediaDir), { env: envWithThreads(1), timeoutMs: this.timeoutMs }));
      if (info.numpy && info.vendor !== 'unknown') {
        label = `${info.vendor}${info.vendorVersion ? ` ${info.vendorVersion}` : ''}${info.threadingLayer ? ` (${info.threadingLayer})` : ''}`;
      }
    } catch (err) {
      this.onError(`BLAS probe of ${python}: ${(err as Error).message}`);
    }
    this.known.set(python, label);
    this.pending.delete(python);
    return label ?? undefined;
  }
}
