/**
 * The bundled example (example/make_data.py + example/analyze.py) with the real Python and numpy:
 * generated images are analysed, the JSON result has every field, and a field with a known number of
 * bright, well-separated stars yields exactly that count.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const exampleDir = path.resolve(__dirname, '../../../example');

describe('bundled example (real Python)', function () {
  this.timeout(60_000);
  let python = '';
  let tmp = '';

  before(() => {
    // python3 on PATH is a pyenv shim (slow per start): resolve the real interpreter once
    python = execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-example-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function run(script: string, args: string[]): string {
    return execFileSync(python, [path.join(exampleDir, script), ...args], { encoding: 'utf8' });
  }

  it('generates images idempotently and analyse writes a complete JSON result per image', () => {
    const data = path.join(tmp, 'data');
    const results = path.join(tmp, 'results');
    assert.match(run('make_data.py', ['--count', '5', '--out', data]), /^5 new image\(s\)/);
    assert.match(run('make_data.py', ['--count', '5', '--out', data]), /^0 new image\(s\), 5 already present/);
    const images = fs.readdirSync(data).sort();
    assert.deepStrictEqual(images, ['field_0000.fits', 'field_0001.fits', 'field_0002.fits', 'field_0003.fits', 'field_0004.fits']);
    for (const image of images) {
      const line = run('analyze.py', [path.join(data, image), '--out', results]);
      assert.match(line, new RegExp(`^${image.replace('.', '\\.')}: background [\\d.]+ +noise [\\d.]+ +sources \\d+`));
      const stem = image.replace(/\.fits$/, '');
      const result = JSON.parse(fs.readFileSync(path.join(results, `${stem}.json`), 'utf8'));
      assert.strictEqual(result.file, image);
      assert.strictEqual(result.width, 256);
      assert.strictEqual(result.height, 256);
      // the generator's sky is 1000 ADU with 10 ADU noise: the clipped estimates must recover them
      assert.ok(Math.abs(result.background - 1000) < 2, `background ${result.background}`);
      assert.ok(Math.abs(result.noise - 10) < 0.5, `noise ${result.noise}`);
      assert.ok(result.threshold > result.background + 4.9 * result.noise);
      assert.ok(Number.isInteger(result.sources) && result.sources > 0, `sources ${result.sources}`);
      // faint injected stars fall below 5 sigma, so detections are at most a little above the injected count
      assert.ok(result.sources <= result.injected + 2, `sources ${result.sources} vs injected ${result.injected}`);
      assert.ok(result.clip_iterations >= 1);
      assert.ok(typeof result.seconds === 'number');
    }
  });

  it('counts exactly the injected bright, well-separated stars', () => {
    const known = path.join(tmp, 'known');
    run('make_data.py', ['--count', '1', '--stars', '17', '--bright', '--prefix', 'known', '--out', known]);
    const out = run('analyze.py', [path.join(known, 'known_0000.fits'), '--out', known]);
    assert.match(out, /sources 17 /);
    const result = JSON.parse(fs.readFileSync(path.join(known, 'known_0000.json'), 'utf8'));
    assert.strictEqual(result.injected, 17);
    assert.strictEqual(result.sources, 17);
  });

  it('names the problem and the fix for a file that is not an image', () => {
    const bogus = path.join(tmp, 'notes.txt');
    fs.writeFileSync(bogus, 'not an image');
    assert.throws(
      () => execFileSync(python, [path.join(exampleDir, 'analyze.py'), bogus], { encoding: 'utf8', stdio: 'pipe' }),
      (err: { status: number; stderr: string }) =>
        err.status === 1 && /cannot read the image .*Pass a \.fits or \.npy image/.test(err.stderr),
    );
  });
});
