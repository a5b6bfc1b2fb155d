#!/usr/bin/python3
"""
A real Kafka-protocol broker for tests: librdkafka's mock cluster (Debian librdkafka1), started through ctypes.
It is written by the librdkafka authors and shares no code with flume-ts or kafkajs: produce, fetch, metadata,
consumer groups and offset commits; topics auto-create with 4 partitions. Data lives in memory only.

Run with /usr/bin/python3 (Debian's interpreter). Prints one line `BOOTSTRAP host:port[,host:port...]` once the
cluster listens, then reads commands on stdin, one a line, answering `OK` or `ERR <text>`:

    down <broker-id>                   the broker drops its connections and refuses new ones (data is kept)
    up <broker-id>                     it accepts connections again, on the same address
    topic <name> <partitions>          creates a topic with that many partitions (before anything auto-creates it)
    errors <api-key> <error-code> <n>  the next n requests of that API fail with that Kafka error code
    rtt <broker-id> <ms>               adds that much latency to every answer of the broker

The cluster stops on SIGTERM/SIGINT and when stdin closes (the test process went away: no orphan brokers).
"""
import argparse
import ctypes
import signal
import sys
import threading

LIB = ctypes.CDLL('librdkafka.so.1')
LIB.rd_kafka_conf_new.restype = ctypes.c_void_p
LIB.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
LIB.rd_kafka_new.restype = ctypes.c_void_p
LIB.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
LIB.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
LIB.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
LIB.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
LIB.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
LIB.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
LIB.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
LIB.rd_kafka_mock_broker_set_down.argtypes = [ctypes.c_void_p, ctypes.c_int32]
LIB.rd_kafka_mock_broker_set_up.argtypes = [ctypes.c_void_p, ctypes.c_int32]
LIB.rd_kafka_mock_broker_set_rtt.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int]
LIB.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
LIB.rd_kafka_mock_push_request_errors_array.argtypes = [
    ctypes.c_void_p, ctypes.c_int16, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
LIB.rd_kafka_err2str.restype = ctypes.c_char_p
LIB.rd_kafka_err2str.argtypes = [ctypes.c_int]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--brokers', type=int, default=1)
    args = ap.parse_args()

    # librdkafka's threads inherit this mask: the signals stay with the thread that waits for them
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    errstr = ctypes.create_string_buffer(512)
    conf = LIB.rd_kafka_conf_new()
    LIB.rd_kafka_conf_set(conf, b'log_level', b'0', errstr, len(errstr))
    rk = LIB.rd_kafka_new(0, conf, errstr, len(errstr))
    if not rk:
        sys.exit('rd_kafka_new: ' + errstr.value.decode())
    mc = LIB.rd_kafka_mock_cluster_new(rk, args.brokers)
    if not mc:
        sys.exit('rd_kafka_mock_cluster_new failed')
    print('BOOTSTRAP ' + LIB.rd_kafka_mock_cluster_bootstraps(mc).decode(), flush=True)

    done = threading.Event()
    lock = threading.Lock()

    def commands():
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            try:
                with lock:
                    answer = command(mc, words)
            except Exception as e:  # a bad command must not stop the broker
                answer = 'ERR ' + str(e)
            print(answer, flush=True)
        done.set()

    def signals():
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
        done.set()

    threading.Thread(target=commands, daemon=True).start()
    threading.Thread(target=signals, daemon=True).start()
    done.wait()
    with lock:
        LIB.rd_kafka_mock_cluster_destroy(mc)
        LIB.rd_kafka_destroy(rk)


def command(mc, words):
    op, rest = words[0], words[1:]
    if op == 'down':
        err = LIB.rd_kafka_mock_broker_set_down(mc, int(rest[0]))
    elif op == 'up':
        err = LIB.rd_kafka_mock_broker_set_up(mc, int(rest[0]))
    elif op == 'rtt':
        err = LIB.rd_kafka_mock_broker_set_rtt(mc, int(rest[0]), int(rest[1]))
    elif op == 'topic':
        err = LIB.rd_kafka_mock_topic_create(mc, rest[0].encode(), int(rest[1]), 1)
    elif op == 'errors':
        n = int(rest[2])
        codes = (ctypes.c_int * n)(*([int(rest[1])] * n))
        LIB.rd_kafka_mock_push_request_errors_array(mc, int(rest[0]), n, codes)
        err = 0
    else:
        return 'ERR unknown command ' + op
    return 'OK' if err == 0 else 'ERR ' + LIB.rd_kafka_err2str(err).decode()


if __name__ == '__main__':
    main()
