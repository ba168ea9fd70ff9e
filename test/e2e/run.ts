/**
 * E2E runner: package the extension, install it into code-server, then run every scenario of every
 * out/test/e2e/*.e2e.js on a fresh workbench page. Writes {passes, failures} to argv[2].
 */
import * as fs from 'fs';
import * as path from 'path';
import { E2EScenario, freshExampleWorkspace, packageVsix, SCREENSHOTS, Workbench } from './harness';

async function main(): Promise<number> {
  const resultsFile = process.argv[2];
  const results = { passes: [] as string[], failures: [] as Array<{ title: string; error: string }> };
  const grep = process.env.PR_TEST_GREP ? new RegExp(process.env.PR_TEST_GREP) : undefined;
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.e2e.js')).sort();
  const wb = new Workbench();
  try {
    const vsix = packageVsix();
    console.log(`[e2e] packaged ${path.relative(process.cwd(), vsix)} (${Math.round(fs.statSync(vsix).size / 1024)} KiB)`);
    await wb.start(vsix);
    for (const f of files) {
      const mod = (await import(path.join(__dirname, f))) as { scenarios?: E2EScenario[] };
      for (const sc of mod.scenarios ?? []) {
        const title = `${f.replace(/\.e2e\.js$/, '')}: ${sc.name}`;
        if (grep && !grep.test(title)) continue;
        const ws = freshExampleWorkspace();
        const ctx = await wb.open(ws, sc.userSettings);
        const t0 = Date.now();
        try {
          await sc.run(ctx);
          results.passes.push(title);
          console.log(`  ✔ ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (err) {
          const msg = (err as Error)?.stack ?? String(err);
          results.failures.push({ title, error: String((err as Error)?.message ?? err) });
          console.log(`  ✗ ${title}\n${msg}`);
          await ctx.screenshot(`FAILED-${title.replace(/[^\w.-]+/g, '_')}`).catch(() => undefined);
        } finally {
          await ctx.close().catch(() => undefined);
          fs.rmSync(ws, { recursive: true, force: true });
        }
      }
    }
  } catch (err) {
    results.failures.push({ title: 'e2e harness', error: String((err as Error)?.stack ?? err) });
    console.log(`[e2e] harness error: ${(err as Error)?.stack ?? err}`);
  } finally {
    await wb.stop();
  }
  if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2));
  console.log(`e2e: ${results.passes.length} passed, ${results.failures.length} failed (screenshots in ${path.relative(process.cwd(), SCREENSHOTS)})`);
  return results.failures.length === 0 && results.passes.length > 0 ? 0 : 1;
}

main().then((c) => process.exit(c));
