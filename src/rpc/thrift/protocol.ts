/**
 * Thrift's compact and binary protocols, for the part of them Flume's ThriftSourceProtocol uses (protocols.md §8):
 *
 *   struct ThriftFlumeEvent { 1: required map<string,string> headers, 2: required binary body }
 *   enum Status { OK = 0, FAILED = 1, ERROR = 2, UNKNOWN = 3 }
 *   service ThriftSourceProtocol { Status append(1: ThriftFlumeEvent event),
 *                                  Status appendBatch(1: list<ThriftFlumeEvent> events) }
 *
 * Readers work on one whole frame (its size was checked before it was buffered) and check every declared length
 * and count against what is left of the frame and against the limits before they allocate; unknown fields are
 * skipped (bounded nesting), as Thrift's generated code does. Types are named by the binary protocol's numbers;
 * the compact reader and writer translate.
 */
export * from './types.js';
export * from './read.js';
export * from './write.js';
