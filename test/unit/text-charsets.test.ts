/** src/text: charset names, the option builder, whole-buffer and streaming decoders, encoders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/contract/index.js';
import { AgentError } from '../../src/core/errors.js';
import {
  charsetFor,
  charsetName,
  charsetOption,
  charsetTypeText,
  findCharset,
  resolveCharset,
  UndecodableError,
} from '../../src/text/index.js';
import { ALL_COMPONENTS as registered } from '../../src/registry/index.js';
import { describeText } from '../../src/registry/docs.js';

function refusal(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OptionError, `an OptionError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

test('names: Java names and aliases, WHATWG labels; Java wins where the two disagree', () => {
  const cases: Record<string, string> = {
    'UTF-8': 'utf-8',
    utf8: 'utf-8',
    ' UTF-8 ': 'utf-8',
    'ISO-8859-1': 'iso-8859-1',
    ISO8859_1: 'iso-8859-1',
    latin1: 'iso-8859-1',
    'iso-latin-1': 'iso-8859-1',
    IBM819: 'iso-8859-1',
    'US-ASCII': 'us-ascii',
    ASCII: 'us-ascii',
    ANSI_X3$4: '',
    'ANSI_X3.4-1968': 'us-ascii',
    default: 'us-ascii',
    'UTF-16': 'utf-16',
    UTF_16: 'utf-16',
    unicode: 'utf-16',
    UnicodeBig: 'utf-16',
    'UTF-16LE': 'utf-16le',
    'X-UTF-16LE': 'utf-16le',
    UnicodeLittleUnmarked: 'utf-16le',
    'UTF-16BE': 'utf-16be',
    'ISO-10646-UCS-2': 'utf-16be',
    'UTF-32': 'utf-32',
    utf32: 'utf-32',
    'UTF-32LE': 'utf-32le',
    utf32le: 'utf-32le',
    'X-UTF-32BE': 'utf-32be',
    Cp1252: 'windows-1252',
    'windows-1252': 'windows-1252',
    'x-cp1250': 'windows-1250',
    cp5348: 'windows-1252',
    Shift_JIS: 'shift_jis',
    MS932: 'shift_jis',
    'windows-31j': 'shift_jis',
    ms_kanji: 'shift_jis',
    'EUC-JP': 'euc-jp',
    'ISO-2022-JP': 'iso-2022-jp',
    jis: 'iso-2022-jp',
    'ks_c_5601-1987': 'euc-kr',
    GB2312: 'gbk',
    CP936: 'gbk',
    GB18030: 'gb18030',
    Big5: 'big5',
    'KOI8-R': 'koi8-r',
    'ISO-8859-15': 'iso-8859-15',
    LATIN9: 'iso-8859-15',
    'ISO-8859-9': 'windows-1254',
    'x-mac-cyrillic': 'x-mac-cyrillic',
    'ucs-2': 'utf-16le',
  };
  for (const [raw, want] of Object.entries(cases)) {
    if (want === '') assert.equal(charsetName(raw), undefined, raw);
    else assert.equal(resolveCharset(raw), want, raw);
  }
  // every canonical name resolves to itself
  for (const name of new Set(Object.values(cases).filter(Boolean))) assert.equal(resolveCharset(name), name);
});

test('names: unknown ones are refused with one error and a "did you mean"', () => {
  const e = refusal(() => resolveCharset('UTF-9'));
  assert.equal(e.message, "'UTF-9' is not a supported charset");
  assert.equal(e.hint, "did you mean 'UTF-8'?");
  assert.match(refusal(() => resolveCharset('latin-1')).hint!, /did you mean 'latin1'\?/);
  const k = refusal(() => resolveCharset('klingon'));
  assert.equal(k.message, "'klingon' is not a supported charset");
  assert.match(k.hint!, /use a Java charset name such as UTF-8, ISO-8859-1/);
  // WHATWG's "replacement" encodings cannot decode anything
  for (const n of ['iso-2022-kr', 'hz-gb-2312', 'replacement']) assert.equal(charsetName(n), undefined, n);
  assert.equal(findCharset('nope'), undefined);
  assert.equal(findCharset('UTF8'), charsetFor('utf-8'), 'one instance per charset');
});

test('option builder: the same type line wherever the need is the same; refusals name the component', () => {
  const o = charsetOption({ need: 'lines', who: 'exec', doc: 'Charset.' });
  assert.equal(o.default, 'utf-8');
  assert.equal(o.defaultText, 'UTF-8');
  assert.equal(o.parse('Cp1252'), 'windows-1252');
  assert.equal(o.parse('ISO-2022-JP'), 'iso-2022-jp', 'a 7-bit stateful charset keeps \\n a single byte');
  const e = refusal(() => o.parse('UTF-16'));
  assert.match(e.message, /^charset 'UTF-16' is not supported by exec: a line feed is not a single byte in it$/);
  assert.match(e.hint!, /use UTF-8 or another ASCII-compatible charset/);
  assert.match(refusal(() => o.parse('UTF-32LE')).message, /not supported by exec/);
  assert.match(refusal(() => o.parse('utf-7')).message, /is not a supported charset/);
  const enc = charsetOption({ need: 'encode', who: 'search_replace', doc: 'x' });
  assert.equal(enc.parse('windows-1251'), 'windows-1251');
  assert.match(
    refusal(() => enc.parse('Shift_JIS')).message,
    /not supported by search_replace: flume-ts can encode only/,
  );
  const single = charsetOption({ need: 'single-byte', who: 'spooldir', doc: 'x' });
  assert.equal(single.parse('KOI8-R'), 'koi8-r');
  assert.match(refusal(() => single.parse('GBK')).message, /not supported by spooldir/);
  assert.equal(charsetOption({ need: 'decode', who: 'netcat', doc: 'x' }).parse('UTF-32'), 'utf-32');

  // every registered component's charset keys show the builder's type text (so `describe` lines agree)
  const texts = new Set(['decode', 'lines', 'encode', 'single-byte'].map((n) => charsetTypeText(n as 'decode')));
  const seen: string[] = [];
  for (const def of registered) {
    for (const [key, spec] of Object.entries(def.options as Record<string, { typeText: string }>)) {
      if (!/charset|encoding/i.test(key) || key === 'inputCharset') continue; // spooldir: see its own test
      const type = spec.typeText.replace(/^map of /, '');
      assert.ok(texts.has(type), `${def.kind} ${def.type} ${key}: ${type}`);
      seen.push(`${def.type}.${key}`);
    }
  }
  assert.deepEqual(seen.sort(), [
    'exec.charset',
    'multiport_syslogtcp.charset.default',
    'multiport_syslogtcp.charset.port',
    'netcat.encoding',
    'search_replace.charset',
  ]);
  const line = (type: string, key: string) =>
    describeText(registered.find((d) => d.type === type)!)
      .split('\n')
      .find((l) => l.trimStart().startsWith(`${key} `))!
      .trim()
      .replace(/^\S+\s+/, '');
  assert.equal(line('exec', 'charset'), line('multiport_syslogtcp', 'charset.default'));
});

test('charset properties: what a component may rely on', () => {
  const p = (n: string) => {
    const c = charsetFor(n);
    return [c.lfSafe, c.stateless, c.singleByte, c.encodable];
  };
  assert.deepEqual(p('UTF-8'), [true, true, false, true]);
  assert.deepEqual(p('ISO-8859-1'), [true, true, true, true]);
  assert.deepEqual(p('windows-1252'), [true, true, true, true]);
  assert.deepEqual(p('KOI8-R'), [true, true, true, true]);
  assert.deepEqual(p('Shift_JIS'), [true, true, false, false]);
  assert.deepEqual(p('ISO-2022-JP'), [true, false, false, false]);
  assert.deepEqual(p('UTF-16'), [false, true, false, true]);
  assert.deepEqual(p('UTF-32BE'), [false, true, false, true]);
});

test('decode: UTF-16 and UTF-32 with and without BOM (Java: the BOM picks the order, big-endian without one)', () => {
  const text = 'h\u00e9 \u{1F600}';
  const le16 = Buffer.from(text, 'utf16le');
  const be16 = Buffer.from(text, 'utf16le').swap16();
  const u16 = charsetFor('UTF-16');
  assert.equal(u16.decode(be16), text);
  assert.equal(u16.decode(Buffer.concat([Buffer.from([0xfe, 0xff]), be16])), text);
  assert.equal(u16.decode(Buffer.concat([Buffer.from([0xff, 0xfe]), le16])), text);
  assert.equal(charsetFor('UTF-16LE').decode(le16), text);
  assert.equal(charsetFor('UTF-16BE').decode(be16), text);
  assert.equal(
    charsetFor('UTF-16LE').decode(Buffer.concat([Buffer.from([0xff, 0xfe]), le16])),
    `\ufeff${text}`,
    'an explicit byte order keeps a BOM as U+FEFF',
  );
  const be32 = charsetFor('UTF-32BE').encode(text);
  const le32 = charsetFor('UTF-32LE').encode(text);
  assert.equal(be32.length, 16);
  const u32 = charsetFor('UTF-32');
  assert.equal(u32.decode(be32), text);
  assert.equal(u32.decode(Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), be32])), text);
  assert.equal(u32.decode(Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), le32])), text);
  assert.equal(charsetFor('UTF-32LE').decode(le32), text);
  assert.equal(
    u32.decode(Buffer.from([0, 0x11, 0, 0, 0, 0, 0, 0x41, 0])),
    '\ufffdA\ufffd',
    'out of range, partial unit',
  );
  assert.equal(u16.decode(Buffer.alloc(0)), '');
});

test('decode policies: REPLACE (default), FAIL throws a coded UndecodableError, IGNORE drops', () => {
  const bad = Buffer.from([0x61, 0xff, 0x62]);
  const u8 = charsetFor('UTF-8');
  assert.equal(u8.decode(bad), 'a\ufffdb');
  assert.equal(u8.decode(bad, 'IGNORE'), 'ab');
  assert.throws(
    () => u8.decode(bad, 'FAIL'),
    (err: unknown) =>
      err instanceof UndecodableError &&
      err instanceof AgentError &&
      err.code === 'FLUME_ERR_TEXT_UNDECODABLE' &&
      err.charset === 'utf-8',
  );
  assert.equal(u8.decode(Buffer.from('ok'), 'FAIL'), 'ok');
  assert.equal(charsetFor('US-ASCII').decode(bad, 'IGNORE'), 'ab');
  assert.equal(charsetFor('US-ASCII').decode(bad), 'a\ufffdb');
  assert.equal(charsetFor('ISO-8859-1').decode(bad, 'FAIL'), 'a\u00ffb');
  assert.throws(() => charsetFor('windows-1253').decode(Buffer.from([0xd2]), 'FAIL'), UndecodableError);
  assert.equal(charsetFor('UTF-16BE').valid(Buffer.from([0xd8, 0])), false, 'a lone surrogate');
  assert.equal(charsetFor('UTF-32').valid(Buffer.from([0, 0, 0xd8, 0])), false);
  assert.equal(charsetFor('UTF-32').valid(Buffer.from([0, 0, 0, 0x41])), true);
});

test('windows-1252 decodes 0x80-0x9F as Windows does (Node 20 reads the label as ISO-8859-1)', () => {
  const cs = charsetFor('Cp1252');
  assert.equal(cs.decode(Buffer.from([0x80, 0x85, 0x92, 0x9f, 0x81, 0xe9])), '\u20ac\u2026\u2019\u0178\u0081\u00e9');
  assert.deepEqual(cs.toUtf8(Buffer.from([0x80])), Buffer.from('\u20ac', 'utf8'));
  assert.deepEqual(cs.encode('\u20ac\u2019\u0178'), Buffer.from([0x80, 0x92, 0x9f]));
  assert.equal(cs.stream().write(Buffer.from([0x93, 0x94])), '\u201c\u201d');
});

test('encode: as Java String.getBytes', () => {
  assert.deepEqual(
    charsetFor('UTF-16').encode('A'),
    Buffer.from([0xfe, 0xff, 0, 0x41]),
    'big-endian BOM, then big-endian',
  );
  assert.deepEqual(charsetFor('UTF-16').encode(''), Buffer.alloc(0), 'the empty string is no bytes, not a BOM');
  assert.deepEqual(charsetFor('UTF-16').encodeChunk('A'), Buffer.from([0, 0x41]));
  assert.deepEqual(charsetFor('UTF-16LE').encode('A'), Buffer.from([0x41, 0]));
  assert.deepEqual(charsetFor('UTF-32').encode('\u{1F600}'), Buffer.from([0, 1, 0xf6, 0]), 'no BOM');
  assert.deepEqual(charsetFor('ISO-8859-1').encode('\u00e9\u20ac\u{1F600}'), Buffer.from([0xe9, 0x3f, 0x3f]));
  assert.deepEqual(charsetFor('US-ASCII').encode('a\u00e9'), Buffer.from('a?'));
  assert.deepEqual(charsetFor('ISO-8859-15').encode('\u20ac\u00a4'), Buffer.from([0xa4, 0x3f]));
  assert.deepEqual(charsetFor('KOI8-R').encode('\u0416\u{1F600}x'), Buffer.from([0xf6, 0x3f, 0x78]));
  assert.throws(() => charsetFor('GBK').encode('x'), OptionError);
});

test('toUtf8 and units: what line protocols need from a stateless charset', () => {
  const ascii = Buffer.from('plain');
  for (const n of ['UTF-8', 'ISO-8859-1', 'windows-1251', 'Shift_JIS']) {
    assert.equal(charsetFor(n).toUtf8(ascii), ascii, n);
  }
  assert.deepEqual(charsetFor('ISO-8859-1').toUtf8(Buffer.from([0xe9])), Buffer.from('\u00e9', 'utf8'));
  assert.deepEqual(charsetFor('Shift_JIS').toUtf8(Buffer.from('93fa', 'hex')), Buffer.from('\u65e5', 'utf8'));
  assert.deepEqual(
    charsetFor('UTF-16BE').toUtf8(Buffer.from([0, 0x41])),
    Buffer.from('A'),
    'ASCII bytes, not ASCII text',
  );
  const jis = Buffer.from('1b2442467c1b2842', 'hex');
  assert.deepEqual(charsetFor('ISO-2022-JP').toUtf8(jis), Buffer.from('\u65e5', 'utf8'));
  const u8 = Buffer.from('a\u00e9\u20ac\u{1F600}', 'utf8');
  assert.equal(charsetFor('UTF-8').units(u8, 0, u8.length), 5);
  assert.equal(charsetFor('Shift_JIS').units(Buffer.from('6193fa', 'hex'), 0, 3), 2);
  assert.equal(charsetFor('windows-1252').units(Buffer.from([1, 2, 3]), 1, 3), 2);
});

// ------------------------------------------------------------------------------------------ streaming decoders

/** Decodes `bytes` with a fresh stream decoder of `cs`, cut into the given chunk sizes. */
function streamed(cs: string, bytes: Buffer, cuts: number[]): string {
  const d = charsetFor(cs).stream();
  let out = '';
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out += d.write(bytes.subarray(prev, c));
    prev = c;
  }
  return out + d.end();
}

test('stream decoders never split a multi-byte character across chunks, for every decoder kind', () => {
  const text = 'a\u00e9\u20ac\u65e5\u{1F600}z';
  const kinds: [string, Buffer, string][] = [
    ['UTF-8', Buffer.from(text, 'utf8'), text],
    ['UTF-8', Buffer.from(`\ufeff${text}`, 'utf8'), `\ufeff${text}`],
    ['UTF-16LE', Buffer.from(text, 'utf16le'), text],
    ['UTF-16BE', Buffer.from(text, 'utf16le').swap16(), text],
    ['UTF-16', Buffer.from(text, 'utf16le').swap16(), text],
    ['UTF-16', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]), text],
    ['UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), text],
    ['UTF-32', charsetFor('UTF-32BE').encode(text), text],
    ['UTF-32', Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), charsetFor('UTF-32BE').encode(text)]), text],
    ['UTF-32', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), charsetFor('UTF-32LE').encode(text)]), text],
    ['UTF-32LE', charsetFor('UTF-32LE').encode(text), text],
    ['UTF-32BE', charsetFor('UTF-32BE').encode(text), text],
    ['Shift_JIS', Buffer.from('6193fa967b7a', 'hex'), 'a\u65e5\u672cz'],
    ['GB18030', Buffer.from('61813084367a', 'hex'), 'a\u00a5z'],
    ['ISO-2022-JP', Buffer.from('611b2442467c4b5c1b28427a', 'hex'), 'a\u65e5\u672cz'],
    ['ISO-8859-1', Buffer.from('61e97a', 'hex'), 'a\u00e9z'],
    ['windows-1252', Buffer.from('61807a', 'hex'), 'a\u20acz'],
    ['US-ASCII', Buffer.from('61e97a', 'hex'), 'a\ufffdz'],
  ];
  for (const [cs, bytes, want] of kinds) {
    assert.equal(streamed(cs, bytes, []), want, `${cs} whole`);
    for (let i = 0; i <= bytes.length; i++) assert.equal(streamed(cs, bytes, [i]), want, `${cs} cut at ${i}`);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        assert.equal(streamed(cs, bytes, [i, j]), want, `${cs} cut at ${i}, ${j}`);
      }
    }
  }
});

test('stream decoders: an incomplete character at the end becomes U+FFFD', () => {
  assert.equal(streamed('UTF-8', Buffer.from([0x61, 0xe2, 0x82]), [2]), 'a\ufffd');
  assert.equal(streamed('UTF-16BE', Buffer.from([0, 0x61, 0]), [1]), 'a\ufffd');
  assert.equal(streamed('UTF-16', Buffer.from([0xfe]), []), '\ufffd');
  assert.equal(streamed('UTF-32LE', Buffer.from([0x61, 0, 0, 0, 0x62]), [3]), 'a\ufffd');
  assert.equal(streamed('UTF-32', Buffer.from([0, 0, 0xfe]), [1]), '\ufffd');
  assert.equal(streamed('UTF-16', Buffer.alloc(0), []), '');
});
