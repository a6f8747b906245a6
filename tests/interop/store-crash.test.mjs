// kill -9 while a store file is open: the file is readable as it is, and a restart seals it at
// its last complete record batch, also when a torn write left half a message at its end.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import {
  EOS, arrowFiles, postJson, readTable, startStoreOtlpd, tempDir, tracesBody, waitFor, waitRows,
} from './lib/store.mjs';

test('a file cut by kill -9 stays readable and is sealed on restart', { timeout: 45000 }, async () => {
  const dir = tempDir();
  const storeDir = `${dir}/data`;
  const first = await startStoreOtlpd(dir, storeDir);
  let file;
  try {
    await postJson(first, 'traces', tracesBody(1700000000000000000n));
    await waitRows(first, 'traces', 3);
    await postJson(first, 'traces', tracesBody(1700000001000000000n));
    await waitRows(first, 'traces', 6);
    [file] = arrowFiles(storeDir, 'traces');
    first.child.kill('SIGKILL');
    await first.exited;
  } finally {
    await first.stop(2000);
  }
  assert.equal(first.exit.signal, 'SIGKILL');
  assert.notDeepEqual(fs.readFileSync(file).subarray(-8), EOS, 'not sealed after kill -9');
  assert.equal(readTable(file).numRows, 6, 'readable as the crash left it');

  // A torn write: the start of a message without its end.
  const bytes = fs.readFileSync(file);
  fs.appendFileSync(file, bytes.subarray(0, 100));

  const second = await startStoreOtlpd(dir, storeDir);
  try {
    await waitFor(() => fs.readFileSync(file).subarray(-8).equals(EOS), 10000, 'the crashed file to be sealed');
    const { value } = await second.waitForMetric('otlpd_store_files_recovered_total', { signal: 'traces' }, 1);
    assert.equal(value, 1);
  } finally {
    const stopped = await second.stop();
    assert.equal(stopped.code, 0, second.describe());
  }
  const table = readTable(file);
  assert.equal(table.numRows, 6);
  assert.equal(fs.readFileSync(file).length, bytes.length + EOS.length);
  fs.rmSync(dir, { recursive: true, force: true });
});
