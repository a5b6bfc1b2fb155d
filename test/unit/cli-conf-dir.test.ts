/** -c DIR: flume-env.sh and the log4j files read as text; the logging settings; Java launcher options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlumeEnv } from '../../src/cli/conf-dir/flume-env.js';
import { parseLog4jProperties } from '../../src/cli/conf-dir/log4j-properties.js';
import { parseLog4j2Xml } from '../../src/cli/conf-dir/log4j2-xml.js';
import { effectiveSettings, readConfDir } from '../../src/cli/conf-dir/index.js';
import { prePass } from '../../src/cli/args.js';
import { isJvmOption } from '../../src/cli/jvm-options.js';
import { logSettingsFrom, parseLogFileSize } from '../../src/telemetry/log-settings.js';
import { AgentError } from '../../src/core/errors.js';

const FLUME_ENV = `# Licensed to the Apache Software Foundation
export JAVA_HOME=/usr/lib/jvm/java-8-oracle
export JAVA_OPTS="-Xms100m -Xmx2000m -Dcom.sun.management.jmxremote"
JAVA_OPTS="$JAVA_OPTS -Dflume.monitoring.type=http \\
  -Dflume.monitoring.port=34546"
FLUME_JAVA_OPTS='-Dflume.root.logger=DEBUG,console -verbose:gc'
FLUME_CLASSPATH="$(ls /opt/lib/*.jar)"
echo starting
`;

test('flume-env.sh: the -D options of JAVA_OPTS and FLUME_JAVA_OPTS become system properties; the rest is noted by line', () => {
  const e = parseFlumeEnv(FLUME_ENV, 'conf/flume-env.sh', {});
  assert.deepEqual(e.sys, {
    'com.sun.management.jmxremote': '',
    'flume.monitoring.type': 'http',
    'flume.monitoring.port': '34546',
    'flume.root.logger': 'DEBUG,console',
  });
  const at = (line: number) => e.notes.filter((n) => n.line === line).map((n) => n.message);
  assert.match(at(2).join(), /JAVA_HOME is ignored/);
  assert.match(at(3).join(), /JVM options ignored: -Xms100m -Xmx2000m/);
  assert.match(at(3).join(), /com\.sun\.management\.jmxremote/);
  assert.match(at(6).join(), /JVM options ignored: -verbose:gc/);
  assert.match(at(7).join(), /FLUME_CLASSPATH is not read: it uses command substitution/);
  assert.match(at(8).join(), /'echo starting' is not run/);
  assert.ok(e.notes.every((n) => n.severity === 'warning' && n.file === 'conf/flume-env.sh'));
  // line 4 only added -D options flume-ts honours: nothing to say about it
  assert.deepEqual(at(4), []);
});

test('flume-env.sh: $VAR expands from earlier assignments, then the environment', () => {
  const e = parseFlumeEnv('PORT=41414\nJAVA_OPTS="-Dflume.monitoring.port=$PORT -Dx=${HOME_DIR}/y"\n', 'f', {
    HOME_DIR: '/srv',
  });
  assert.deepEqual(e.sys, { 'flume.monitoring.port': '41414', x: '/srv/y' });
  assert.deepEqual(e.notes, [], 'PORT is used by JAVA_OPTS: not reported');
});

const LOG4J_PROPERTIES = `flume.root.logger=DEBUG,LOGFILE
flume.log.dir=/var/log/flume
flume.log.file=flume.log
log4j.logger.org.apache.flume.lifecycle = INFO
log4j.logger.org.jboss = WARN
log4j.rootLogger=\${flume.root.logger}
log4j.appender.LOGFILE=org.apache.log4j.RollingFileAppender
log4j.appender.LOGFILE.MaxFileSize=10MB
log4j.appender.LOGFILE.MaxBackupIndex=5
log4j.appender.LOGFILE.File=\${flume.log.dir}/\${flume.log.file}
log4j.appender.LOGFILE.layout=org.apache.log4j.PatternLayout
log4j.appender.DAILY=org.apache.log4j.rolling.RollingFileAppender
log4j.appender.DAILY.rollingPolicy=org.apache.log4j.rolling.TimeBasedRollingPolicy
log4j.appender.DAILY.rollingPolicy.ActiveFileName=\${flume.log.dir}/\${flume.log.file}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.SYSLOG=org.apache.log4j.net.SyslogAppender
`;

test("log4j.properties (Flume 1.9's): level, appenders and flume.log.* are defaults; -D options win", () => {
  const log = parseLog4jProperties(LOG4J_PROPERTIES, 'conf/log4j.properties');
  const conf = { dir: 'conf', read: ['log4j.properties'], sys: {}, log, notes: [] };
  const eff = effectiveSettings({}, conf);
  assert.equal(eff.logging.level, 'debug');
  assert.deepEqual(eff.logging.appenders, [
    {
      kind: 'file',
      name: 'LOGFILE',
      path: '/var/log/flume/flume.log',
      daily: false,
      maxBytes: 10 * 1024 ** 2,
      maxFiles: 5,
    },
  ]);
  assert.ok(eff.notes.some((n) => n.line === 4 && /per-logger levels are ignored.*\(also line 5\)/.test(n.message)));
  assert.ok(eff.notes.some((n) => n.line === 11 && /appender LOGFILE: layout ignored/.test(n.message)));
  assert.ok(!eff.notes.some((n) => /SYSLOG/.test(n.message)), 'an appender the root does not use is not reported');

  const cli = effectiveSettings({ 'flume.root.logger': 'WARN,console,DAILY', 'flume.log.dir': '/tmp/x' }, conf);
  assert.equal(cli.logging.level, 'warn');
  assert.deepEqual(
    cli.logging.appenders.map((a) => (a.kind === 'file' ? `${a.name}:${a.path}:${a.daily}` : a.name)),
    ['console', 'DAILY:/tmp/x/flume.log:true'],
  );
  assert.ok(cli.notes.some((n) => /appender console: target System.err ignored/.test(n.message)));

  assert.throws(
    () => effectiveSettings({ 'flume.root.logger': 'INFO,SYSLOG' }, conf),
    (e: AgentError) => e.code === 'FLUME_ERR_USAGE' && /SYSLOG/.test(e.message),
    'an appender flume-ts cannot write, asked for on the command line: exit 64',
  );
});

const LOG4J2_XML = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Properties>
    <Property name="LOG_DIR">/var/log/flume</Property>
  </Properties>
  <Appenders>
    <Console name="Console" target="SYSTEM_ERR">
      <PatternLayout pattern="%d (%t) [%p - %l] %m%n" />
    </Console>
    <RollingFile name="LogFile" fileName="\${LOG_DIR}/flume.log" filePattern="\${LOG_DIR}/archive/flume.log.%d{yyyyMMdd}-%i">
      <PatternLayout pattern="%d{dd MMM yyyy HH:mm:ss,SSS} %-5p [%t] (%C.%M:%L) %equals{%x}{[]}{} - %m%n" />
      <Policies>
        <!-- Roll every night at midnight or when the file reaches 100MB -->
        <SizeBasedTriggeringPolicy size="100 MB"/>
        <CronTriggeringPolicy schedule="0 0 0 * * ?"/>
      </Policies>
      <DefaultRolloverStrategy min="1" max="20">
        <Delete basePath="\${LOG_DIR}/archive"/>
      </DefaultRolloverStrategy>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="org.apache.flume.lifecycle" level="info"/>
    <Logger name="org.jboss" level="WARN"/>
    <Root level="INFO">
      <AppenderRef ref="LogFile" />
    </Root>
  </Loggers>
</Configuration>
`;

test("log4j2.xml (Flume 1.11's): the Root level and its RollingFile (100 MB and midnight, 20 kept)", () => {
  const log = parseLog4j2Xml(LOG4J2_XML, 'conf/log4j2.xml');
  const eff = effectiveSettings({}, { dir: 'conf', read: [], sys: {}, log, notes: [] });
  assert.equal(eff.logging.level, 'info');
  assert.deepEqual(eff.logging.appenders, [
    {
      kind: 'file',
      name: 'LogFile',
      path: '/var/log/flume/flume.log',
      daily: true,
      maxBytes: 100 * 1024 ** 2,
      maxFiles: 20,
    },
  ]);
  const lines = eff.notes.map((n) => `${n.line}: ${n.message}`).join('\n');
  assert.match(lines, /^23: per-logger levels are ignored.*\(also line 24\)$/m);
  assert.match(lines, /^10: appender LogFile: rolled files are named/m);
  assert.match(lines, /^11: appender LogFile: PatternLayout ignored/m);
  assert.match(lines, /^18: appender LogFile: Delete ignored/m);
  // the console appender is not used by the root: not reported; on the command line it is
  const both = effectiveSettings(
    { 'flume.root.logger': 'DEBUG,Console,LogFile' },
    { dir: 'conf', read: [], sys: {}, log, notes: [] },
  );
  assert.deepEqual(
    both.logging.appenders.map((a) => a.kind),
    ['console', 'file'],
  );
  assert.ok(both.notes.some((n) => n.line === 7 && /target SYSTEM_ERR ignored/.test(n.message)));
});

test('a log4j2.xml that is not well-formed is not read, with a warning naming its line', () => {
  const log = parseLog4j2Xml('<Configuration>\n  <Appenders>\n</Configuration>\n', 'conf/log4j2.xml');
  assert.equal(log.root, undefined);
  assert.equal(log.notes.length, 1);
  assert.equal(log.notes[0]!.line, 3);
  assert.match(log.notes[0]!.message, /^not read: unexpected closing tag Configuration/);
});

test('readConfDir: log4j2.xml wins over log4j.properties (as in Flume 1.10+); other log4j2 formats are noted', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-confdir-'));
  try {
    fs.writeFileSync(path.join(dir, 'log4j2.xml'), LOG4J2_XML);
    fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J_PROPERTIES);
    fs.writeFileSync(path.join(dir, 'log4j2.yaml'), 'Configuration: {}\n');
    fs.writeFileSync(
      path.join(dir, 'flume-env.sh'),
      'JAVA_OPTS="-Dflume.monitoring.type=http -Dflume.monitoring.port=1"\n',
    );
    const c = readConfDir(dir, {});
    assert.deepEqual(c.read.sort(), ['flume-env.sh', 'log4j2.xml']);
    assert.equal(c.sys['flume.monitoring.port'], '1');
    assert.equal(c.log?.file, path.join(dir, 'log4j2.xml'));
    const msgs = c.notes.map((n) => `${path.basename(n.file!)}: ${n.message}`);
    assert.ok(msgs.includes('log4j.properties: not read: log4j2.xml is read instead (as Flume 1.10+ does)'));
    assert.ok(msgs.includes('log4j2.yaml: not read: flume-ts reads log4j2.xml or log4j.properties'));
    assert.match(readConfDir(path.join(dir, 'nope')).notes[0]!.message, /does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('flume.root.logger: several appenders, log4j levels mapped, unknown levels and appenders refused', () => {
  const s = logSettingsFrom({ sys: { 'flume.root.logger': 'TRACE,console,LOGFILE,DAILY', 'flume.log.dir': '/l' } });
  assert.equal(s.settings.level, 'trace');
  // LOGFILE and DAILY on the same file: one file, rolled by size and at midnight
  assert.deepEqual(s.settings.appenders, [
    { kind: 'console', name: 'console' },
    { kind: 'file', name: 'LOGFILE', path: '/l/flume.log', daily: true, maxBytes: 100 * 1024 ** 2, maxFiles: 20 },
  ]);
  const level = (spec: string) => logSettingsFrom({ sys: { 'flume.root.logger': spec } }).settings.level;
  assert.deepEqual(
    ['ALL', 'trace', 'DEBUG', 'Info', 'WARN', 'ERROR', 'FATAL', 'OFF'].map((l) => level(`${l},console`)),
    ['trace', 'trace', 'debug', 'info', 'warn', 'error', 'error', 'off'],
  );
  const usage = (sys: Record<string, string>, re: RegExp) => {
    assert.match(logSettingsFrom({ sys }).errors.join('\n'), re);
    assert.throws(
      () => effectiveSettings(sys),
      (e: AgentError) => e.code === 'FLUME_ERR_USAGE' && re.test(e.message),
    );
  };
  usage({ 'flume.root.logger': 'BOGUS,console' }, /unknown level 'BOGUS'/);
  usage(
    { 'flume.root.logger': 'INFO,console,KAFKA' },
    /unknown appender 'KAFKA' \(appenders: console, LOGFILE, DAILY\)/,
  );
  usage({ 'flume.log.timezone': 'Europe/Paris' }, /use utc or local/);
  usage({ 'flume.log.maxFileSize': 'big' }, /not a size/);
  assert.deepEqual(logSettingsFrom({ sys: {} }).errors, []);
  assert.equal(logSettingsFrom({ sys: { 'flume.log.timezone': 'LOCAL' } }).settings.timezone, 'local');
  assert.equal(logSettingsFrom({ sys: {} }).settings.timezone, 'utc');
  assert.equal(parseLogFileSize('100 MB'), 100 * 1024 ** 2);
  assert.equal(parseLogFileSize('512KB'), 512 * 1024);
});

test('Java launcher options are accepted and set aside; `node` is the deprecated `agent`', () => {
  for (const o of ['-Xmx1g', '-XX:+UseG1GC', '-verbose:gc', '-verbose', '-javaagent:/x.jar', '-server', '-ea'])
    assert.ok(isJvmOption(o), o);
  for (const o of ['-n', '-f', '-c', '-d', '--dryrun', '-Dx=1', '-h']) assert.ok(!isJvmOption(o), o);
  const p = prePass(['node', '-n', 'a1', '-f', 'x', '-verbose:gc', '-XX:+UseG1GC', '-Dk=v']);
  assert.deepEqual(p, {
    sys: { k: 'v' },
    jvm: ['-verbose:gc', '-XX:+UseG1GC'],
    rest: ['agent', '-n', 'a1', '-f', 'x'],
    deprecatedNode: true,
  });
});
