/**
 * src/text against Java's charsets (what Flume uses): names and aliases, String.getBytes, new String(bytes).
 * test/helpers/CharsetOracle.java answers; needs java and javac (FLUME_TS_SKIP_JAVA=1 skips when they are missing).
 *
 * Known differences, kept on purpose (Node's decoders; each pinned by src/text's own tests): a lone surrogate in
 * UTF-16 input stays a lone surrogate (Java: U+FFFD); an odd trailing UTF-16 byte is dropped (Java: U+FFFD);
 * UTF-32LE/BE keep a leading BOM as U+FEFF (Java drops it); a UTF-32 surrogate code point is U+FFFD (Java keeps
 * it); an encoded surrogate in UTF-8 is three U+FFFD (Java: one); bytes a single-byte charset leaves undefined
 * decode as the WHATWG tables say (windows-1252 0x81 is U+0081; Java: U+FFFD); ISO-8859-9 and TIS-620 are read as
 * their supersets windows-1254 and windows-874 (WHATWG); IBM866 swaps three control characters (Node's ICU table).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { charsetFor, charsetName } from '../../src/text/index.js';

function findRoot(): string {
  for (const s of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let d = resolve(s); ; d = dirname(d)) {
      if (existsSync(join(d, 'test', 'helpers', 'CharsetOracle.java'))) return d;
      if (dirname(d) === d) break;
    }
  }
  throw new Error('cannot find project root (test/helpers/CharsetOracle.java) from the test file or the cwd');
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}

/** The UTF-16 units of `s` in hex, 4 digits each (exact, lone surrogates too). */
const units = (s: string): string =>
  Array.from({ length: s.length }, (_, i) => s.charCodeAt(i).toString(16).padStart(4, '0')).join('');
const fromUnits = (h: string): string => {
  let s = '';
  for (let i = 0; i < h.length; i += 4) s += String.fromCharCode(parseInt(h.slice(i, i + 4), 16));
  return s;
};

const SAMPLES = [
  '',
  'h\u00e9llo \u20ac',
  'A\u00e9\u20ac\u00df\u00e7\u00f1\u00f8\u00c5 \u03a9\u03c0 \u0416\u0436 \u0141\u0142\u0160\u0161\u017d\u017e ' +
    '\u011e\u011f\u015e\u015f\u0130\u0131 \u00c6\u00e6 \u65e5\u672c\u{1F600} \u00bf\u00a1\u00ab\u00bb\u00b0\u00b1 ' +
    '\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2122',
  'tab\tcr\rlf\n\u00a0\u00ad',
];
const UTF = ['UTF-8', 'UTF-16', 'UTF-16LE', 'UTF-16BE', 'UTF-32', 'UTF-32LE', 'UTF-32BE'];
/** Decoding cases Java and Node agree on (well-formed input, BOMs where Java honours them). */
const DECODE: [string, string][] = [
  ['UTF-8', '68c3a9f09f9880'],
  ['UTF-8', 'c3'],
  ['UTF-8', 'e28241'],
  ['UTF-8', 'ff41c0af'],
  ['UTF-8', 'efbbbf41'],
  ['UTF-16', 'feff00410042'],
  ['UTF-16', 'fffe41004200'],
  ['UTF-16', '00410042'],
  ['UTF-16LE', 'fffe4100'],
  ['UTF-16BE', 'd83dde00'],
  ['UTF-32', '0000feff00000041'],
  ['UTF-32', 'fffe000041000000'],
  ['UTF-32', '0001f600'],
  ['UTF-32', '00110000'],
  ['UTF-32', '000000410000'],
  ['UTF-32LE', '00f60100'],
  ['US-ASCII', '41c3a9'],
];

/** Java charsets WHATWG reads as their windows-* superset (so 0x80-0x9F differ). */
const SUPERSET = ['ISO-8859-9', 'TIS-620', 'x-iso-8859-11'];

const javaAvailable = onPath('java') && onPath('javac');
const skipJava = !javaAvailable && process.env.FLUME_TS_SKIP_JAVA === '1';

const skip = skipJava ? 'java/javac not found and FLUME_TS_SKIP_JAVA=1' : false;

describe('src/text vs Java charsets (differential)', { skip }, () => {
  if (!javaAvailable) {
    it('needs java and javac on PATH', () => {
      assert.fail(
        'java and javac (JDK 17) must be on PATH for the charset differential test; ' +
          'set FLUME_TS_SKIP_JAVA=1 to skip it',
      );
    });
    return;
  }
  let tmp = '';
  let javaCharsets: string[][] = [];
  const answers = new Map<string, string>();
  const ours = (name: string) => {
    const n = charsetName(name);
    return n === undefined ? undefined : charsetFor(n);
  };
  const singleBytes = (): string[] =>
    javaCharsets.map((c) => c[0]!).filter((n) => ours(n)?.singleByte && !SUPERSET.includes(n) && n !== 'IBM866');

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'flume-ts-charset-'));
    const root = findRoot();
    const src = join(root, 'test', 'helpers', 'CharsetOracle.java');
    const javac = spawnSync('javac', ['-d', tmp, src], { encoding: 'utf8' });
    assert.equal(javac.status, 0, `javac failed: ${javac.error?.message ?? ''}\n${javac.stdout}\n${javac.stderr}`);
    const ask = (cmds: string[]): string[] => {
      const r = spawnSync('java', ['-Xshare:auto', '-cp', tmp, 'CharsetOracle'], {
        input: `${cmds.join('\n')}\n`,
        encoding: 'latin1',
      });
      assert.equal(r.status, 0, `java CharsetOracle failed: ${r.error?.message ?? ''}\n${r.stderr}`);
      return r.stdout.split('\n');
    };
    javaCharsets = ask(['A'])[0]!
      .split('|')
      .map((c) => c.split(' '));
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const cmds = [
      ...javaCharsets
        .map((c) => c[0]!)
        .filter((n) => ours(n)?.encodable)
        .flatMap((n) => SAMPLES.map((s) => `E ${n} ${units(s)}`)),
      ...DECODE.map(([cs, hex]) => `D ${cs} ${hex}`),
      ...singleBytes().map((n) => `D ${n} ${all.toString('hex')}`),
    ];
    const out = ask(cmds);
    cmds.forEach((c, i) => answers.set(c, out[i]!));
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('every Java alias of a charset we support resolves to the same charset; the standard ones are all there', () => {
    let checked = 0;
    for (const [name, ...aliases] of javaCharsets) {
      const want = charsetName(name!);
      if (want === undefined) continue;
      for (const a of aliases) assert.equal(charsetName(a), want, `${a} (alias of ${name})`);
      checked += 1 + aliases.length;
    }
    assert.ok(checked > 300, `${checked} names checked`);
    for (const n of [...UTF, 'US-ASCII', 'ISO-8859-1']) assert.ok(charsetName(n), n);
  });

  it('encode matches String.getBytes for every charset flume-ts can encode', () => {
    let checked = 0;
    for (const [name] of javaCharsets) {
      const cs = ours(name!);
      if (!cs?.encodable || SUPERSET.includes(name!)) continue;
      for (const s of SAMPLES) {
        const java = answers.get(`E ${name} ${units(s)}`);
        assert.equal(cs.encode(s).toString('hex'), java, `${name} ${JSON.stringify(s)}`);
        checked++;
      }
    }
    assert.ok(checked >= 4 * 25, `${checked} encodings checked`);
  });

  it('decode matches new String(bytes, charset): UTF-8/16/32 with and without BOM, single-byte tables', () => {
    for (const [cs, hex] of DECODE) {
      const java = answers.get(`D ${cs} ${hex}`);
      assert.equal(units(charsetFor(cs).decode(Buffer.from(hex, 'hex'))), java, `${cs} ${hex}`);
    }
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const names = singleBytes();
    assert.ok(names.length >= 20, names.join(' '));
    for (const n of names) {
      const java = fromUnits(answers.get(`D ${n} ${all.toString('hex')}`)!);
      const got = ours(n)!.decode(all);
      for (let b = 0; b < 256; b++) {
        if (java[b] === '\ufffd') continue; // a byte Java leaves undefined
        assert.equal(got[b], java[b], `${n} byte 0x${b.toString(16)}`);
      }
    }
  });
});
