// The package as a library in a host application: importing it installs no
// process-wide handlers (emscripten's defaults rethrow every uncaught
// exception and rejection of the host), and an error thrown by the SDK
// reaches the host's own handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { join } from 'path';
import { pathToFileURL } from 'url';

test('importing the SDK leaves process handlers alone', () => {
  const index = pathToFileURL(join(process.env.ARMAP_WASM_PKG, 'index.mjs')).href;
  const code = `
    const events = ['uncaughtException', 'unhandledRejection', 'exit'];
    const before = events.map((e) => process.listenerCount(e));
    const sdk = await import(${JSON.stringify(index)});
    const after = events.map((e) => process.listenerCount(e));
    let caught = '';
    process.on('unhandledRejection', (reason) => { caught = reason.status; });
    Promise.reject(new sdk.ArmapError('NOT_FOUND', 'x'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(JSON.stringify({ before, after, caught }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }).trim());
  assert.deepEqual(out.after, out.before, `listeners before ${out.before}, after ${out.after}`);
  assert.equal(out.caught, 'NOT_FOUND');
});
