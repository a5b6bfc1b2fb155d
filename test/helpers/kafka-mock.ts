/**
 * A real Kafka-protocol broker for tests: librdkafka's mock cluster (Debian librdkafka1) started by kafka_mock.py,
 * plus the independent Kafka clients of this machine (kcat, Debian python3-kafka) to read what flume-ts wrote and
 * write what it reads. Share one cluster per test file (start it in `before`, stop it in `after`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './cli.js';

export const PY = '/usr/bin/python3';
const SCRIPT = path.join(ROOT, 'test', 'helpers', 'kafka_mock.py');

function probe(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

/** Why the mock broker cannot run here, or undefined. */
export const mockUnavailable: string | undefined = probe(PY, ['-c', "import ctypes; ctypes.CDLL('librdkafka.so.1')"])
  ? undefined
  : 'librdkafka1 is not installed (apt-get install librdkafka1)';
export const kcatUnavailable: string | undefined = probe('kcat', ['-V']) ? undefined : 'kcat is not installed';
export const pythonKafkaUnavailable: string | undefined = probe(PY, ['-c', 'import kafka'])
  ? undefined
  : 'python3-kafka is not installed';

/** Kafka error codes and API keys the tests inject. */
export const KafkaApi = { Produce: 0, Fetch: 1, OffsetCommit: 8, JoinGroup: 11 } as const;
export const KafkaErr = { MESSAGE_TOO_LARGE: 10, NOT_LEADER_FOR_PARTITION: 6, REQUEST_TIMED_OUT: 7 } as const;

export class KafkaMock {
  private readonly proc: ChildProcess;
  private lines: string[] = [];
  private wake?: () => void;
  private exited = false;
  bootstrap = '';

  private constructor(brokers: number) {
    this.proc = spawn(PY, [SCRIPT, '--brokers', String(brokers)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let rest = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      rest += d;
      const parts = rest.split('\n');
      rest = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
    this.proc.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  static async start(brokers = 1): Promise<KafkaMock> {
    const m = new KafkaMock(brokers);
    const first = await m.next(10_000);
    if (!first.startsWith('BOOTSTRAP ')) throw new Error(`kafka mock did not start: ${first}`);
    m.bootstrap = first.slice('BOOTSTRAP '.length).trim();
    return m;
  }

  private async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.exited) throw new Error('kafka mock exited');
      if (Date.now() > deadline) throw new Error('kafka mock did not answer');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
    return this.lines.shift()!;
  }

  /** Sends one command (see kafka_mock.py); rejects on an ERR answer. */
  async command(cmd: string): Promise<void> {
    this.proc.stdin!.write(cmd + '\n');
    const answer = await this.next();
    if (answer !== 'OK') throw new Error(`kafka mock: ${cmd}: ${answer}`);
  }

  /** The broker drops its connections and refuses new ones; its data stays. */
  down(broker = 1): Promise<void> {
    return this.command(`down ${broker}`);
  }
  up(broker = 1): Promise<void> {
    return this.command(`up ${broker}`);
  }
  createTopic(name: string, partitions: number): Promise<void> {
    return this.command(`topic ${name} ${partitions}`);
  }
  /** The next `n` requests of API `apiKey` fail with Kafka error `code`. */
  injectErrors(apiKey: number, code: number, n: number): Promise<void> {
    return this.command(`errors ${apiKey} ${code} ${n}`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin!.end();
    this.proc.kill('SIGTERM');
    await done;
  }
}

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: string[] | null;
  ts: number;
}

/** Every record of `topic` from the beginning, read by kcat (librdkafka: an independent client). */
export function kcatRead(bootstrap: string, topic: string, extra: string[] = []): KcatRecord[] {
  const r = spawnSync('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q', ...extra], {
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`kcat failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KcatRecord);
}

/** Produces `lines` (one record each, `key<TAB>value` when keyed) with kcat, compressed with `codec`. */
export function kcatProduce(bootstrap: string, topic: string, lines: string[], codec = 'none', keyed = false): void {
  const args = ['-b', bootstrap, '-P', '-t', topic, '-z', codec];
  if (keyed) args.push('-K', '\t');
  const r = spawnSync('kcat', args, { input: lines.join('\n') + '\n', encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`kcat produce failed (${r.status}): ${r.stderr}`);
}

/** Runs a Python snippet with Debian's interpreter (python3-kafka, python3-avro); returns stdout. */
export function python(code: string, env: Record<string, string> = {}): string {
  const r = spawnSync(PY, ['-c', code], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Environment for kafkajs in tests (its partitioner notice). */
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
