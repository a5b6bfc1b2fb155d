# Flume's ThriftSourceProtocol (flume-ng-sdk/src/main/thrift/flume.thrift), as protocols.md §8 states it; the tests
# generate an independent Python client and server from it with Debian's thrift-compiler.
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
