/** The monitor's wording: status bar text, tooltip Markdown, memory warning (pure, no VS Code). */
import * as assert from 'assert';
import type { SystemSample } from '../../extension/core/monitor';
import { formatBytes, formatGB } from '../../extension/shared/format';
import { bar, escapeMarkdown, memoryWarning, processLines, sparkCells, statusText, tooltipMarkdown } from '../../extension/shared/monitorFormat';

const GiB = 2 ** 30;

function sample(over: Partial<SystemSample> = {}, memPercent = 37.9): SystemSample {
  const total = 24 * GiB;
  const used = (memPercent / 100) * total;
  return {
    t: 1,
    cpu: { total: 37.2, hostTotal: 37.2, cores: [41, 33.4], coreIds: [0, 1], capacityCores: 2 },
    load: [0.52, 0.4, 0.33],
    memory: { usedBytes: used, totalBytes: total, hostUsedBytes: used, hostTotalBytes: total, swapUsedBytes: 0, swapTotalBytes: 2 * GiB, percent: memPercent },
    processes: [],
    ...over,
  };
}

describe('monitor: wording', () => {
  it('status text is CPU % and RAM used/total, plus busy workers during a run', () => {
    assert.strictEqual(statusText(sample()), '$(pulse) CPU 37% · RAM 9.1/24 GB');
    assert.strictEqual(statusText(sample(), { busy: 2, workers: 2 }), '$(pulse) CPU 37% · RAM 9.1/24 GB · 2/2 busy');
    assert.strictEqual(formatGB(4 * GiB), '4.0');
    assert.strictEqual(formatBytes(812 * 2 ** 20), '812 MB');
    assert.strictEqual(formatBytes(1.44 * GiB), '1.4 GB');
  });

  it('tooltip has per-core bars, load, memory and swap, and the run processes', () => {
    const md = tooltipMarkdown({ sample: sample() });
    assert.match(md, /^\*\*CPU 37%\*\* of 2 cores · load 0\.52 0\.40 0\.33/);
    assert.ok(md.includes(`cpu0 ${bar(41)}  41%`), md);
    assert.ok(md.includes(`cpu1 ${bar(33.4)}  33%`), md);
    assert.match(md, /\*\*RAM 9\.1 of 24 GB\*\* \(38%\) · swap 0\.0 of 2\.0 GB/);
    assert.doesNotMatch(md, /Run:/);
    const withRun = tooltipMarkdown({
      sample: sample({ processes: [{ pid: 4242, name: 'python3', cpuPercent: 99.5, rssBytes: 45 * 2 ** 20, descendants: 2 }] }),
      run: { busy: 1, workers: 2 },
    });
    assert.match(withRun, /\*\*Run: 1\/2 workers busy\*\*/);
    assert.match(withRun, /   4242    99\.5     45 MB  python3 \(\+2\)/);
    assert.match(withRun, /Run processes: 100% CPU \(100% = one core\), 45 MB RSS/);
  });

  it('many cores become one character each', () => {
    const cores = Array.from({ length: 64 }, (_, i) => (i % 8) * 14);
    const md = tooltipMarkdown({ sample: sample({ cpu: { total: 50, hostTotal: 50, cores, coreIds: cores.map((_, i) => i), capacityCores: 64 } }) });
    assert.ok(md.includes(`cpu0    ${sparkCells(cores.slice(0, 32))}`));
    assert.ok(md.includes(`cpu32   ${sparkCells(cores.slice(32))}`));
    assert.strictEqual(sparkCells([0, 50, 100]), '▁▅█');
  });

  it('warns past the memory threshold with the reason; names the run\'s share and the fix', () => {
    assert.strictEqual(memoryWarning(sample({}, 89.9), 90), undefined);
    const w = memoryWarning(sample({}, 93), 90, 6 * GiB)!;
    assert.match(w, /^Memory 93% used of RAM \(warning at 90%\): more and the machine starts swapping/);
    assert.match(w, /The run's processes hold 6\.0 GB; fewer workers \(setting parallelRun\.workers\) lower the peak\./);
    const limited = sample({ limits: { version: 2, path: '/', memoryBytes: 4 * GiB, sources: ['memory.max'] } }, 95);
    assert.match(memoryWarning(limited, 90)!, /of the memory limit .*kernel kills processes in this container/);
    const md = tooltipMarkdown({ sample: sample({}, 93), warning: w });
    assert.ok(md.includes(`$(warning) ${w}`));
  });

  it('escapes Markdown in text from the system and fences process names', () => {
    assert.strictEqual(escapeMarkdown('a_b*[c](d)'), 'a\\_b\\*\\[c\\]\\(d\\)');
    const lines = processLines(Array.from({ length: 14 }, (_, i) => ({ pid: i + 1, name: `w${i}`, cpuPercent: 1, rssBytes: 2 ** 20, descendants: 0 })));
    assert.strictEqual(lines.length, 1 + 12 + 1);
    assert.strictEqual(lines[13], '… and 2 more');
  });
});
