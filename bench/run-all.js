// Runs every bench/*.js except itself, one after another, passing their output through, then prints
// each one's ratio lines (lines with "1.23x" or "aim") together at the end.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const only = process.argv.slice(2);
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.js') && f !== path.basename(__filename)).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const summary = [];
let failed = 0;
for (const f of files) {
  console.log(`\n===== ${f} =====`);
  const r = spawnSync(process.execPath, [path.join(__dirname, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  process.stdout.write(r.stdout || '');
  if (r.status !== 0) {
    failed++;
    summary.push(`${f}: FAILED (exit ${r.status})`);
    continue;
  }
  const lines = (r.stdout || '').split('\n').filter((l) => /\d(\.\d+)?x\b|aim/i.test(l) && !l.trim().startsWith('{'));
  summary.push(`${f}:`, ...lines.map((l) => `  ${l.trim()}`));
}
console.log('\n===== ratios =====');
console.log(summary.join('\n'));
process.exit(failed ? 1 : 0);
