import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  mergeProperties,
  parseProperties,
  PropertiesSyntaxError,
  type ParseResult,
} from '../../src/config/properties.js';

/** key -> value of a parse result. */
function kv(r: ParseResult): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, e] of r.entries) o[k] = e.value;
  return o;
}
const p = (text: string): Record<string, string> => kv(parseProperties(text));
/** key -> line of a parse result. */
function lines(text: string): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, e] of parseProperties(text).entries) o[k] = e.line;
  return o;
}

describe('parseProperties: rules of java.util.Properties.load', () => {
  it('separators: =, :, whitespace, and one optional separator after whitespace', () => {
    assert.deepEqual(p('a=1\nb:2\nc 3\nd\t4\ne\f5\nf = 6\ng : 7\nh  =  8\n'), {
      a: '1',
      b: '2',
      c: '3',
      d: '4',
      e: '5',
      f: '6',
      g: '7',
      h: '8',
    });
    assert.deepEqual(p('a = = b\nc:=d\ne==f\ng::h\ni := j\n'), { a: '= b', c: '=d', e: '=f', g: ':h', i: '= j' });
  });

  it('line terminators \\n, \\r and \\r\\n', () => {
    assert.deepEqual(p('a=1\nb=2\rc=3\r\nd=4'), { a: '1', b: '2', c: '3', d: '4' });
    assert.deepEqual(lines('a=1\nb=2\rc=3\r\nd=4\r\r\n\ne=5'), { a: 1, b: 2, c: 3, d: 4, e: 7 });
  });

  it('whitespace-only lines are ignored; leading whitespace of a line is skipped', () => {
    assert.deepEqual(p('  \n\t\n\f\n \t\f\n   k = v\n\t\fk2=v2\n'), { k: 'v', k2: 'v2' });
    // only space, tab and form feed are whitespace
    assert.deepEqual(p('\u000bk=v\n\u00a0x=y\n'), { '\u000bk': 'v', '\u00a0x': 'y' });
  });

  it('a BOM is not whitespace: it becomes part of the first key (as in Java)', () => {
    assert.deepEqual(p('\ufeffa=1\nb=2\n'), { '\ufeffa': '1', b: '2' });
  });

  it('comments: # or ! as first non-blank char; # later in a line is data', () => {
    assert.deepEqual(p('# c\n! c\n  # c\n\t! c\nk=v # not a comment\nk2 = !x\na#b=c\n'), {
      k: 'v # not a comment',
      k2: '!x',
      'a#b': 'c',
    });
  });

  it('a comment ending in a backslash does not continue', () => {
    assert.deepEqual(p('# comment \\\nk=v\n! bang \\\nk2=v2\n'), { k: 'v', k2: 'v2' });
    assert.deepEqual(lines('# comment \\\nk=v\n! bang \\\r\nk2=v2\n'), { k: 2, k2: 4 });
  });

  it('odd number of trailing backslashes continues; even does not', () => {
    assert.deepEqual(p('a=1\\\n2\nb=1\\\\\nc=1\\\\\\\n   2\nd=1\\\\\\\\\ne=x\n'), {
      a: '12',
      b: '1\\',
      c: '1\\2',
      d: '1\\\\',
      e: 'x',
    });
  });

  it("continuation drops the next line's leading whitespace, and a continuation line starting with # is data", () => {
    assert.deepEqual(p('k=a \\\n\t \f b \\\n   c\nk2=x\\\n# data\nk3=y\\\n  !data\n'), {
      k: 'a b c',
      k2: 'x# data',
      k3: 'y!data',
    });
  });

  it('a blank line ends a continuation', () => {
    assert.deepEqual(p('k=v\\\n\nx=y\nk2=w\\\n   \nz=q\n'), { k: 'v', x: 'y', k2: 'w', z: 'q' });
  });

  it('continuation with CRLF and lone CR terminators', () => {
    assert.deepEqual(p('k=a\\\r\n  b\r\nk2=c\\\r  d\rk3=e\\\r\r\nx=y'), { k: 'ab', k2: 'cd', k3: 'e', x: 'y' });
  });

  it('line numbers: keys after continuations, comments and blank lines', () => {
    const text = [
      '# header', //                     1
      'a = 1', //                        2
      'b = 2 \\', //                     3
      '    more \\', //                  4
      '    end', //                      5
      '', //                             6
      '! comment \\', //                 7
      '   c = 3', //                     8
      'd\\', //                          9
      '  e = 4', //                      10
      '\\', //                           11  lone backslash: logical line continues, but is still empty
      '   f = 5', //                     12  -> key f starts here
    ].join('\n');
    assert.deepEqual(lines(text), { a: 2, b: 3, c: 8, de: 9, f: 12 });
    const e = parseProperties(text, 'conf/x.properties').entries.get('b');
    assert.deepEqual(e, { key: 'b', value: '2 more end', file: 'conf/x.properties', line: 3 });
    assert.equal(parseProperties('k=v').entries.get('k')?.file, '<string>');
  });

  it('key runs to the first unescaped = : or whitespace; escaped separators belong to the key', () => {
    assert.deepEqual(p('a\\=b=c\nd\\:e:f\ng\\ h i\n\\#x=1\n\\!y=2\nz\\\\=w\n'), {
      'a=b': 'c',
      'd:e': 'f',
      'g h': 'i',
      '#x': '1',
      '!y': '2',
      'z\\': 'w',
    });
  });

  it('escapes: \\t \\n \\r \\f, \\uXXXX, backslash + other char, in keys and values', () => {
    assert.deepEqual(p('k\\tk=a\\tb\\nc\\rd\\fe\n'), { 'k\tk': 'a\tb\nc\rd\fe' });
    assert.deepEqual(p('\\u006b\\u0065\\u0079=\\u0041\\u00e9\\u00E9\\uD83D\\uDE00\n'), { key: 'Aéé😀' });
    assert.deepEqual(p('k=\\a\\b\\z\\"\\\'\\\\\n'), { k: 'abz"\'\\' });
    assert.deepEqual(p('path=C:\\temp\\new\n'), { path: 'C:\temp\new' });
    // separators are found before escapes are decoded
    assert.deepEqual(p('a\\u003db=c\n'), { 'a=b': 'c' });
    // a \u escape may be split by a continuation
    assert.deepEqual(p('k=\\u00\\\n   41\n'), { k: 'A' });
  });

  it('malformed \\uXXXX throws PropertiesSyntaxError with file and line', () => {
    const cases: Array<[string, number]> = [
      ['ok=1\nk=\\u00G1\n', 2],
      ['ok=1\n\n\nk=\\u12\n', 4],
      ['\\u12=value', 1],
      ['# c\nk=a\\\n  \\u', 2],
      ['k=\\uXYZW', 1],
    ];
    for (const [text, line] of cases) {
      assert.throws(
        () => parseProperties(text, 'bad.properties'),
        (err: unknown) => {
          assert.ok(err instanceof PropertiesSyntaxError);
          assert.ok(err instanceof Error);
          assert.equal(err.file, 'bad.properties');
          assert.equal(err.line, line, JSON.stringify(text));
          assert.match(err.message, /Malformed \\uxxxx encoding\./);
          assert.match(err.message, new RegExp(`^bad\\.properties:${line}: `));
          return true;
        },
      );
    }
  });

  it('empty values and key-only lines', () => {
    assert.deepEqual(p('a=\nb:\nc\nd   \ne = \n=v\n:w\n'), { a: '', b: '', c: '', d: '', e: '', '': 'w' });
  });

  it('values are not trimmed (trailing whitespace kept)', () => {
    assert.deepEqual(p('k=v  \t\nk2 = \\  x \n'), { k: 'v  \t', k2: '  x ' });
  });

  it('trailing backslash at EOF', () => {
    assert.deepEqual(p('k=v\\'), { k: 'v' });
    assert.deepEqual(p('k=v\\\n'), { k: 'v' });
    assert.deepEqual(p('k=v\\\n   '), { k: 'v' });
    assert.deepEqual(p('k=v\\\\'), { k: 'v\\' });
    // Java quirk: a lone backslash at EOF is an empty logical line => "" = ""
    assert.deepEqual(p('a=b\n\\'), { a: 'b', '': '' });
    assert.deepEqual(p('a=b\n\\\n'), { a: 'b', '': '' });
    assert.deepEqual(p('a=b\n\\\n  '), { a: 'b' });
  });

  it('JDK 9+ quirk: after a line holding only a backslash, a # line is still a comment', () => {
    assert.deepEqual(p('\\\n#comment\nk=v\n'), { k: 'v' });
    assert.deepEqual(lines('\\\n#comment\nk=v\n'), { k: 3 });
    // but once the logical line has content, # is data
    assert.deepEqual(p('x\\\n#data\n'), { 'x#data': '' });
  });

  it('empty input and comment-only input', () => {
    assert.equal(parseProperties('').entries.size, 0);
    assert.equal(parseProperties('# a\n! b\n#\\').entries.size, 0);
  });

  it('duplicates: last wins, earlier occurrences are reported', () => {
    const r = parseProperties('d=1\no=x\nd=2\nd : 3\n', 'f');
    assert.deepEqual(kv(r), { d: '3', o: 'x' });
    assert.deepEqual(r.entries.get('d'), { key: 'd', value: '3', file: 'f', line: 4 });
    assert.deepEqual(
      r.duplicates.map((e) => [e.value, e.line]),
      [
        ['1', 1],
        ['2', 3],
      ],
    );
  });

  it('mergeProperties: later results override earlier ones key by key', () => {
    const a = parseProperties('x=1\ny=1\ny=2\n', 'a');
    const b = parseProperties('y=3\nz=3\n', 'b');
    const m = mergeProperties([a, b]);
    assert.deepEqual(kv(m), { x: '1', y: '3', z: '3' });
    assert.equal(m.entries.get('y')?.file, 'b');
    assert.equal(m.entries.get('x')?.file, 'a');
    assert.deepEqual(
      m.duplicates.map((e) => `${e.file}:${e.line}=${e.value}`),
      ['a:2=1', 'a:3=2'],
    );
    assert.equal(mergeProperties([]).entries.size, 0);
  });

  // how fast is measured outside the tests (timed assertions flake on a shared machine); this checks the result
  it('parses large input: 100,000 keys with continuation lines, each with its line number', () => {
    const parts: string[] = [];
    for (let i = 0; i < 100_000; i++)
      parts.push(`# c ${i}\nagent.sources.s${i}.type = exec \\\n   tail -F /var/log/x${i}.log\n`);
    const r = parseProperties(parts.join(''));
    assert.equal(r.entries.size, 100_000);
    assert.equal(r.entries.get('agent.sources.s99999.type')?.line, 299_999);
    assert.equal(r.entries.get('agent.sources.s99999.type')?.value, 'exec tail -F /var/log/x99999.log');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Differential test against the real java.util.Properties.
// ---------------------------------------------------------------------------------------------------------

function findRoot(): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const s of starts) {
    let d = resolve(s);
    for (;;) {
      if (existsSync(join(d, 'test', 'helpers', 'PropsOracle.java'))) return d;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error('cannot find project root (test/helpers/PropsOracle.java) from the test file or the cwd');
}

function onPath(cmd: string): boolean {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) if (existsSync(join(dir, cmd + ext))) return true;
  }
  return false;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fixtures that contain CR (or other bytes best not committed), written to the temp dir at test time. */
const GENERATED: Record<string, string> = {
  'gen-crlf.properties': 'a=1\r\nb = 2\r\n# comment\r\n\r\nc : 3\r\nd\r\n',
  'gen-lone-cr.properties': 'a=1\rb = 2\r# comment\r\rc : 3\rd',
  'gen-mixed-eol.properties': 'a=1\nb=2\r\nc=3\rd=4\n\r\n\re=5\r\n',
  'gen-crlf-continuation.properties': 'k=a \\\r\n   b \\\r\n\tc\r\nk2=x\\\r  y\rk3=z\\\r\n\r\nafter=1\r\n',
  'gen-cr-continuation-then-cr-lf.properties': 'k=e\\\r\r\nx=y\r\nk2=f\\\r\n\n  z=w\r\n',
  'gen-comment-backslash-crlf.properties': '# comment \\\r\nkey=v\r\n! bang \\\rkey2=v2\r\n#\\\r\n',
  'gen-lone-backslash-cr-eof.properties': 'a=b\r\\\r',
  'gen-lone-backslash-crlf-comment.properties': '\\\r\n#comment\r\nk=v\r\n\\\r\n\r\nk2=v2',
  'gen-bom.properties': '\ufeffa=1\nb=2\n',
  'gen-bom-comment.properties': '\ufeff# not a comment?\nb=2\n',
  'gen-formfeed-cr.properties': '\fk\f=\fv\f\r\f\r\n\f#c\rk2\fv2\r',
  'gen-escaped-cr-in-value.properties': 'k=a\\rb\\r\\nc\r\nk2=\\\r\\ \r\n',
  'gen-line-separators.properties': 'k=a\u2028b\nk2=c\u0085d\nk3=e\u2029f\n',
};

/** Random small files over an alphabet of the interesting characters. */
function fuzzFiles(count: number): Record<string, string> {
  const rand = rng(0xf1e3);
  const alphabet = [
    'a',
    'b',
    'k',
    '=',
    ':',
    ' ',
    ' ',
    '\t',
    '\f',
    '\\',
    '\\',
    '\\',
    '\n',
    '\n',
    '\r',
    '\r\n',
    '#',
    '!',
    'u',
    't',
    'n',
    '0',
    'F',
    'é',
    '😀',
    '\\u0041',
    '\\u00',
    'x=y\n',
    '\\\n',
    '\\\r\n',
  ];
  const out: Record<string, string> = {};
  for (let f = 0; f < count; f++) {
    const len = Math.floor(rand() * 60);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    out[`fuzz-${String(f).padStart(3, '0')}.properties`] = s;
  }
  return out;
}

/** A big file so that Java's 8 KiB read buffer boundaries fall in every kind of place. */
function bigFile(): string {
  const rand = rng(42);
  const pieces = [
    'key%=value%\n',
    'key% = a \\\r\n    b\r\n',
    '# comment % \\\n',
    'k% : v\\\\\n',
    'k%\\\r  cont\r',
    '\n\n',
    '   \t\f\n',
    'r%.regex = ^(\\\\d+)\\\\s+$\n',
    'u% = \\u00e9\\u0041\r\n',
    'e%=\n',
    '\\\r\n!c\n',
  ];
  let s = '';
  for (let i = 0; s.length < 300_000; i++) {
    s += pieces[Math.floor(rand() * pieces.length)]!.replace(/%/g, String(i));
  }
  return s;
}

interface OracleResult {
  file: string;
  entries?: Array<[string, string]>;
  error?: string;
}

const javaAvailable = onPath('java') && onPath('javac');
const skipJava = !javaAvailable && process.env.FLUME_TS_SKIP_JAVA === '1';

describe(
  'parseProperties vs java.util.Properties (differential)',
  { skip: skipJava ? 'java/javac not found on PATH and FLUME_TS_SKIP_JAVA=1' : false },
  () => {
    const root = findRoot();
    const fixtureDir = join(root, 'test', 'fixtures', 'properties');
    const staticFixtures = readdirSync(fixtureDir)
      .filter((f) => f.endsWith('.properties'))
      .sort();
    const generated: Record<string, string> = { ...GENERATED, ...fuzzFiles(400), 'gen-big.properties': bigFile() };

    let tmp = '';
    const oracle = new Map<string, OracleResult>();
    const paths = new Map<string, string>(); // display name -> absolute path

    if (!javaAvailable) {
      it('needs java and javac on PATH', () => {
        assert.fail(
          'java and javac (JDK 17) must be on PATH for the java.util.Properties differential test; ' +
            'install a JDK or set FLUME_TS_SKIP_JAVA=1 to skip it',
        );
      });
      return;
    }

    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'flume-ts-props-'));
      const classes = join(tmp, 'classes');
      const javac = spawnSync('javac', ['-d', classes, join(root, 'test', 'helpers', 'PropsOracle.java')], {
        encoding: 'utf8',
      });
      assert.equal(javac.status, 0, `javac failed: ${javac.error?.message ?? ''}\n${javac.stdout}\n${javac.stderr}`);

      for (const f of staticFixtures) paths.set(f, join(fixtureDir, f));
      for (const [name, text] of Object.entries(generated)) {
        const path = join(tmp, name);
        writeFileSync(path, text, 'utf8');
        paths.set(name, path);
      }
      const java = spawnSync('java', ['-Xshare:auto', '-cp', classes, 'PropsOracle', ...paths.values()], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      assert.equal(java.status, 0, `java PropsOracle failed: ${java.error?.message ?? ''}\n${java.stderr}`);
      const results = JSON.parse(java.stdout) as OracleResult[];
      assert.equal(results.length, paths.size);
      for (const r of results) oracle.set(r.file, r);
    });

    after(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    function check(name: string): void {
      const path = paths.get(name);
      assert.ok(path, `no path for ${name}`);
      const expected = oracle.get(path);
      assert.ok(expected, `no oracle result for ${path}`);
      const text = readFileSync(path, 'utf8');
      let actual: OracleResult;
      try {
        const r = parseProperties(text, path);
        const entries = [...r.entries.values()].map((e): [string, string] => [e.key, e.value]);
        entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
        actual = { file: path, entries };
      } catch (err) {
        if (!(err instanceof PropertiesSyntaxError)) throw err;
        assert.equal(err.file, path);
        const prefix = `${err.file}:${err.line}: `;
        assert.ok(err.message.startsWith(prefix));
        actual = { file: path, error: `java.lang.IllegalArgumentException: ${err.message.slice(prefix.length)}` };
      }
      assert.deepEqual(actual, expected, `${name}: ${JSON.stringify(text)}`);
    }

    it('has a corpus of at least 25 committed fixtures', () => {
      assert.ok(staticFixtures.length >= 25, `only ${staticFixtures.length} fixtures in ${fixtureDir}`);
    });

    for (const name of staticFixtures) it(`fixture ${name}`, () => check(name));
    for (const name of Object.keys(GENERATED)) it(`generated ${name}`, () => check(name));
    it('gen-big.properties (300 KB, crosses Java read-buffer boundaries)', () => check('gen-big.properties'));
    it('400 random fuzz files', () => {
      let errors = 0;
      for (const name of Object.keys(generated)) {
        if (!name.startsWith('fuzz-')) continue;
        check(name);
        if (oracle.get(paths.get(name)!)?.error) errors++;
      }
      // the alphabet should exercise both outcomes
      assert.ok(errors > 0 && errors < 400, `fuzz error count ${errors}`);
    });
  },
);
