/**
 * The monitoring module: the status page is assembled from the asset files the build installs (status.html, .css and
 * the compiled browser scripts), and the -Dflume.monitoring.* flags are checked with stable error codes.
 * The page in a real browser is test/integration/status-page.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentError } from '../../src/core/errors.js';
import { monitoringFrom } from '../../src/monitor/http-server.js';
import { loadStatusPage, statusPageHtml } from '../../src/monitor/status-page/index.js';
import { linkModules } from '../../src/monitor/status-page/link.js';
import vm from 'node:vm';

function assetDir(files: Record<string, string>): { url: URL; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-assets-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { url: pathToFileURL(`${dir}/`), dir };
}

function isAssetError(name: string) {
  return (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_MONITOR_ASSET' && e.message.includes(name);
}

test('the installed page inlines every asset once, leaves no placeholder and escapes the agent name', () => {
  const html = statusPageHtml(`a<b>&"x'`);
  assert.doesNotMatch(html, /\{\{[\w.-]+\}\}/, 'no placeholder is left');
  assert.equal(html.match(/<title>a&lt;b&gt;&amp;&quot;x&#39; · flume-ts status<\/title>/g)?.length, 1);
  assert.equal(html.match(/<span class="agent-name">a&lt;b&gt;&amp;&quot;x&#39;<\/span>/g)?.length, 1);
  assert.equal(html.match(/<style>/g)?.length, 1);
  assert.equal(html.match(/<script type="module">/g)?.length, 1, 'the scripts share one module script');
  assert.equal(html.match(/<\/script>/g)?.length, 1);
  assert.ok(html.includes('--edge-on: #2563eb'), 'the stylesheet is inlined');
  // every browser script is there, the one that starts polling last
  const at = (s: string) => html.indexOf(s);
  const scripts = [
    'function fmtRate(',
    'function rate(',
    'function build(',
    'function update(',
    'function renderBanner(',
  ];
  for (const fn of scripts) {
    assert.ok(at(fn) > 0 && at(fn) < at("fetch('./api/status'"), `${fn} comes before the polling script`);
  }
  // inlined verbatim: a `$&` replacement pattern in a script is not taken as one by the assembly
  assert.ok(html.includes(`'\\\\$&'`), 'the selector escaping in find() survives');
});

test('an agent name is inserted as text, never read as a placeholder or a replacement pattern', () => {
  const html = statusPageHtml("{{status.css}}$&$'");
  assert.ok(html.includes('<title>{{status.css}}$&amp;$&#39; · flume-ts status</title>'));
  assert.equal(html.match(/--edge-on: #2563eb/g)?.length, 1, 'the stylesheet is not inlined a second time');
});

test('assets are inlined as they are: their text is not scanned for placeholders', () => {
  const { url, dir } = assetDir({
    'status.html': '<title>{{agent}}</title><style>{{a.css}}</style><script>{{b.js}}</script><p>{{agent}}</p>',
    'a.css': "/* {{agent}} $' */",
    'b.js': "s.replace(/x/g, '$&$1');",
  });
  try {
    const page = loadStatusPage(url);
    assert.equal(
      page('k<1>'),
      "<title>k&lt;1&gt;</title><style>/* {{agent}} $' */</style>" +
        "<script>// b.js\ns.replace(/x/g, '$&$1');</script><p>k&lt;1&gt;</p>",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('scripts are linked with the modules they import: each once, dependencies first, one scope that runs', () => {
  const modules: Record<string, string> = {
    'main.js': "import { twice } from './b.js';\nimport { one } from './a.js';\nresult = twice(one) + one;",
    'b.js': "import { one } from './a.js';\nexport function twice(n) {\n    return 2 * n + one - 1;\n}",
    'a.js': 'export const one = 1;\nexport {};',
  };
  const read = (name: string) => modules[name]!;
  const linked = linkModules('main.js', read);
  assert.equal(
    linked,
    '// a.js\nconst one = 1;\n// b.js\nfunction twice(n) {\n    return 2 * n + one - 1;\n}' +
      '\n// main.js\nresult = twice(one) + one;',
  );
  const scope: { result?: number } = {};
  vm.runInNewContext(linked, scope);
  assert.equal(scope.result, 3);
});

test('what cannot share one scope is refused with FLUME_ERR_MONITOR_ASSET naming the module', () => {
  const refused = (modules: Record<string, string>, re: RegExp) =>
    assert.throws(
      () => linkModules('main.js', (n) => modules[n] ?? ''),
      (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_MONITOR_ASSET' && re.test(e.message),
    );
  refused({ 'main.js': "import * as a from './a.js';" }, /main\.js: cannot link 'import \* as a/);
  refused({ 'main.js': "import { x } from 'lib';" }, /main\.js: cannot link/);
  refused({ 'main.js': 'export default 1;' }, /main\.js: cannot link 'export default 1;'/);
  const main = "import { f } from './a.js';\nfunction helper() {}";
  refused(
    { 'main.js': main, 'a.js': "import { helper } from './main.js';\nexport function f() {}" },
    /import cycle: main\.js -> a\.js -> main\.js/,
  );
  refused(
    { 'main.js': main, 'a.js': 'export function f() {}\nconst helper = 1;' },
    /main\.js: 'helper' is also declared at the top level of a\.js/,
  );
});

test('a missing or unusable asset is FLUME_ERR_MONITOR_ASSET naming the file', () => {
  const { url, dir } = assetDir({
    'status.html': '<style>{{a.css}}</style><script>{{gone.js}}</script>',
    'a.css': 'p { color: red }',
  });
  try {
    assert.throws(() => loadStatusPage(url), isAssetError('gone.js'));
    fs.writeFileSync(path.join(dir, 'gone.js'), 'document.write("</SCRIPT>")');
    assert.throws(() => loadStatusPage(url), isAssetError('gone.js'), 'a script that would end its element early');
    fs.writeFileSync(path.join(dir, 'gone.js'), 'void 0;');
    fs.writeFileSync(path.join(dir, 'a.css'), 'p::after { content: "</style>" }');
    assert.throws(() => loadStatusPage(url), isAssetError('a.css'));
    fs.rmSync(path.join(dir, 'status.html'));
    assert.throws(() => loadStatusPage(url), isAssetError('status.html'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('-Dflume.monitoring.* flags: off by default, bad values are FLUME_ERR_USAGE with the flag named', () => {
  assert.equal(monitoringFrom({}), undefined);
  assert.deepEqual(monitoringFrom({ 'flume.monitoring.type': 'HTTP' }), { type: 'http', port: 41414, host: '0.0.0.0' });
  const usage = (re: RegExp) => (e: unknown) =>
    e instanceof AgentError && e.code === 'FLUME_ERR_USAGE' && re.test(e.message);
  assert.throws(
    () => monitoringFrom({ 'flume.monitoring.type': 'ganglia' }),
    usage(/^-Dflume\.monitoring\.type=ganglia is not supported; use http \(Flume's JSON\) or prometheus$/),
  );
  assert.throws(
    () => monitoringFrom({ 'flume.monitoring.type': 'http', 'flume.monitoring.port': '70000' }),
    usage(/^-Dflume\.monitoring\.port=70000 is not a port number$/),
  );
});
