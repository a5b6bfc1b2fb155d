# Flume's ThriftSourceProtocol (flume-ng-sdk/src/main/thrift/flume.thrift): generate a client or server in any
# language with the Thrift compiler (e.g. `thrift --gen py flume.thrift`); send.py and the tests do so.
namespace java org.apache.flume.thrift

struct ThriftFlumeEvent {
  1: required map <string, string> headers,
  2: required binary body,
}

enum Status {
  OK,
  FAILED,
  ERROR,
  UNKNOWN
}

service ThriftSourceProtocol {
  Status append(1: ThriftFlumeEvent event),
  Status appendBatch(1: list<ThriftFlumeEvent> events),
}
