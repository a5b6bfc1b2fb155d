import { createRequire } from 'node:module';
import { PLUGIN_API_VERSION } from '../../contract/index.js';
import { EXIT } from '../exit-codes.js';

export function runVersion(): number {
  const require = createRequire(import.meta.url);
  const pkg = require('../../../../package.json') as { version: string };
  process.stdout.write(
    `flume-ts ${pkg.version}\nCompatible with Apache Flume 1.11 configurations and Avro RPC\nPlugin API ${PLUGIN_API_VERSION}\nNode.js ${process.version}\n`,
  );
  return EXIT.OK;
}
