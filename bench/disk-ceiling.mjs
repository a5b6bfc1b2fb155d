#!/usr/bin/env node
// The disk's ceiling for a synced file channel (not part of npm test): how many bytes per second this machine
// can make durable
//   1. raw: append + fdatasync to a plain file, alone and while another process writes the same disk unsynced
//      (as a sink's output does during the netcat-file-file_roll bench);
//   2. LevelDB: synced batches of one put record (the file channel's put write) with the consumed record deleted
//      shortly after, as the channel does.
// Events of 200 bytes per second = bytes per second / 200: compare with netcat-file-file_roll in `npm run bench`.
//
//   node bench/disk-ceiling.mjs [--dir /var/tmp] [--mb 400] [--batch-kb 600]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Level } from 'level';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DIR = fs.mkdtempSync(path.join(arg('dir', os.tmpdir()), 'disk-ceiling-'));
const MB = Number(arg('mb', '400'));
const KB = Number(arg('batch-kb', '600'));
// printable ASCII from a seeded xorshift, like the bench's data set (snappy cannot shrink it either)
const payload = Buffer.alloc(KB * 1024);
let x = 0x9e3779b9;
for (let i = 0; i < payload.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  payload[i] = 32 + ((x >>> 0) % 95);
}
const batches = Math.max(10, Math.round((MB * 1024) / KB));
const report = (what, ms) => {
  const mbs = (batches * KB) / 1024 / (ms / 1000);
  console.log(
    `${what.padEnd(58)} ${(ms / batches).toFixed(2).padStart(6)} ms/batch  ${mbs.toFixed(0).padStart(4)} MB/s  = ${Math.round(
      (mbs * 1048576) / 200,
    )
      .toLocaleString('en-US')
      .padStart(9)} ev/s of 200 B`,
  );
};

function raw(label) {
  const file = path.join(DIR, 'raw.bin');
  const fd = fs.openSync(file, 'w');
  const t = performance.now();
  for (let i = 0; i < batches; i++) {
    fs.writeSync(fd, payload);
    fs.fdatasyncSync(fd);
  }
  report(`raw append+fdatasync, ${KB} KB batches${label}`, performance.now() - t);
  fs.closeSync(fd);
  fs.rmSync(file);
}

async function withBackgroundWriter(fn) {
  const bg = spawn(
    'sh',
    ['-c', `while true; do dd if=/dev/zero of=${path.join(DIR, 'bg.bin')} bs=1M count=256 status=none; done`],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
  try {
    await fn();
  } finally {
    bg.kill();
    await new Promise((r) => bg.once('exit', r));
  }
}

async function leveldb(label) {
  const db = new Level(path.join(DIR, `db${label.length}`), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    writeBufferSize: 16 << 20,
  });
  await db.open();
  const key = (i) => {
    const k = Buffer.alloc(13);
    k[0] = 0x64;
    k.writeUInt32BE(i, 5);
    return k;
  };
  const t = performance.now();
  for (let i = 0; i < batches; i++) {
    const ops = [
      { type: 'put', key: key(i), value: payload },
      { type: 'put', key: Buffer.from('p'), value: Buffer.alloc(21) },
    ];
    if (i >= 2) ops.push({ type: 'del', key: key(i - 2) });
    await db.batch(ops, { sync: true });
  }
  report(`LevelDB synced batch (put + delete consumed), ${KB} KB${label}`, performance.now() - t);
  await db.close();
}

console.log(`disk-ceiling (an unsynced writer is dd writing as fast as it can: a worst case):`);
console.log(`disk-ceiling: ${MB} MB in ${batches} batches under ${DIR}, ${os.cpus().length} CPU(s)`);
try {
  raw('');
  await withBackgroundWriter(async () => raw(', + unsynced writer'));
  await leveldb('');
  await withBackgroundWriter(() => leveldb(', + unsynced writer'));
} finally {
  fs.rmSync(DIR, { recursive: true, force: true });
}
