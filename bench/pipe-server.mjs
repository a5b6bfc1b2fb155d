// Baseline receiver for `npm run bench` (node-pipe): the ceiling for any Node agent.
// Usage: node bench/pipe-server.mjs <output-file>
// Listens on 127.0.0.1 (any free port), prints `listening <port>` on stdout, accepts ONE TCP
// connection and pipes the socket straight into the file. Exits 0 on SIGTERM once the file is closed.
import fs from 'node:fs';
import net from 'node:net';

const outFile = process.argv[2];
if (!outFile) {
  console.error('usage: node bench/pipe-server.mjs <output-file>');
  process.exit(64);
}

let out;
const server = net.createServer((socket) => {
  server.close(); // one connection only
  out = fs.createWriteStream(outFile);
  out.on('error', (err) => {
    console.error(`write failed: ${err.message}`);
    process.exit(1);
  });
  socket.on('error', (err) => console.error(`socket error: ${err.message}`));
  socket.pipe(out);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  if (!out) process.exit(0);
  out.end(() => process.exit(0));
});
