/** THE list of components. Adding a component = one import line here. */
import type { AnyDef } from '../contract/index.js';
import memoryChannel from '../channels/memory.js';
import fileChannel from '../channels/file/index.js';
import spillableMemoryChannel from '../channels/spillable-memory.js';
import kafkaChannel from '../kafka/channel/index.js';
import replicatingSelector from '../selectors/replicating.js';
import multiplexingSelector from '../selectors/multiplexing.js';
import loadBalancingSelector from '../selectors/load-balancing.js';
import defaultProcessor from '../processors/default.js';
import failoverProcessor from '../processors/failover.js';
import loadBalanceProcessor from '../processors/load-balance.js';
import timestampInterceptor from '../interceptors/timestamp.js';
import hostInterceptor from '../interceptors/host.js';
import staticInterceptor from '../interceptors/static.js';
import removeHeaderInterceptor from '../interceptors/remove-header.js';
import uuidInterceptor from '../interceptors/uuid.js';
import searchReplaceInterceptor from '../interceptors/search-replace.js';
import regexFilterInterceptor from '../interceptors/regex-filter.js';
import regexExtractorInterceptor from '../interceptors/regex-extractor.js';
import netcatSource from '../sources/netcat.js';
import seqSource from '../sources/seq.js';
import stressSource from '../sources/stress.js';
import avroSource from '../sources/avro.js';
import forwardSource from '../sources/forward.js';
import httpSource from '../sources/http/index.js';
import syslogTcpSource from '../sources/syslog/syslogtcp.js';
import syslogUdpSource from '../sources/syslog/syslogudp.js';
import multiportSyslogTcpSource from '../sources/syslog/multiport.js';
import netcatUdpSource from '../sources/netcat-udp.js';
import taildirSource from '../sources/taildir/index.js';
import spoolDirSource from '../sources/spooldir/index.js';
import execSource from '../sources/exec.js';
import thriftSource from '../sources/thrift.js';
import kafkaSource from '../sources/kafka.js';
import loggerSink from '../sinks/logger.js';
import nullSink from '../sinks/null.js';
import fileRollSink from '../sinks/file-roll/index.js';
import avroSink from '../sinks/avro.js';
import hdfsSink from '../sinks/hdfs/index.js';
import forwardSink from '../sinks/forward.js';
import elasticsearchSink from '../sinks/elasticsearch/index.js';
import httpSink from '../sinks/http/index.js';
import thriftSink from '../sinks/thrift.js';
import kafkaSink from '../sinks/kafka/index.js';

export const ALL_COMPONENTS: readonly AnyDef[] = [
  memoryChannel,
  fileChannel,
  spillableMemoryChannel,
  kafkaChannel,
  replicatingSelector,
  multiplexingSelector,
  loadBalancingSelector,
  defaultProcessor,
  failoverProcessor,
  loadBalanceProcessor,
  timestampInterceptor,
  hostInterceptor,
  staticInterceptor,
  removeHeaderInterceptor,
  uuidInterceptor,
  searchReplaceInterceptor,
  regexFilterInterceptor,
  regexExtractorInterceptor,
  netcatSource,
  seqSource,
  stressSource,
  avroSource,
  forwardSource,
  httpSource,
  syslogTcpSource,
  syslogUdpSource,
  multiportSyslogTcpSource,
  netcatUdpSource,
  taildirSource,
  spoolDirSource,
  execSource,
  thriftSource,
  kafkaSource,
  loggerSink,
  nullSink,
  fileRollSink,
  avroSink,
  hdfsSink,
  forwardSink,
  elasticsearchSink,
  httpSink,
  thriftSink,
  kafkaSink,
];
