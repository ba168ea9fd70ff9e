/** Thin workerpool entry over core/demos/matrixDemo (methods typed by MatrixWorkerApi). */
import { threadId } from 'worker_threads';
import * as workerpool from 'workerpool';
import type { Matrix } from 'ml-matrix';
import { fromMatrix, productBlock, toMatrix } from '../core/demos/matrixDemo';
import type { MatrixWorkerApi, PlainMatrix } from '../shared/workerApi';

// The same input arrives once per block; convert (and transpose) it once per worker.
let cached: { key: string; a: Matrix; aT: Matrix } | undefined;

function transferable(m: PlainMatrix): unknown {
  return new workerpool.Transfer(m, [m.data.buffer as ArrayBuffer]);
}

const api: MatrixWorkerApi = {
  productBlock({ a, key, rowStart, rowEnd }) {
    const start = Date.now();
    if (!cached || cached.key !== key) {
      const m = toMatrix(a);
      cached = { key, a: m, aT: m.transpose() };
    }
    const block = fromMatrix(productBlock(cached.a, cached.aT, rowStart, rowEnd));
    return { block, threadId, start, end: Date.now() };
  },
  productSerial({ a }) {
    return fromMatrix(toMatrix(a).mmulByTranspose());
  },
};

workerpool.worker({
  productBlock: (p: Parameters<MatrixWorkerApi['productBlock']>[0]) => {
    const r = api.productBlock(p);
    return new workerpool.Transfer(r, [r.block.data.buffer as ArrayBuffer]);
  },
  productSerial: (p: Parameters<MatrixWorkerApi['productSerial']>[0]) => transferable(api.productSerial(p)),
});
