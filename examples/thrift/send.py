#!/usr/bin/python3
"""Sends lines to a thrift source (flume-ts or Apache Flume) with a client generated from Flume's IDL.

    python3 examples/thrift/send.py HOST PORT LINE [LINE ...]

Needs Debian's thrift-compiler and python3-thrift: the client code is generated from flume.thrift (next to this
file) into a temporary directory at start. One appendBatch call sends every line as an event with a `source`
header; the exit status is 0 when the source answered OK.
"""
import os
import subprocess
import sys
import tempfile

gen = tempfile.mkdtemp(prefix='flume-thrift-')
idl = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'flume.thrift')
subprocess.run(['thrift', '--gen', 'py', '-out', gen, idl], check=True)
sys.path.insert(0, gen)

from thrift.transport import TSocket, TTransport  # noqa: E402
from thrift.protocol import TCompactProtocol  # noqa: E402
from flume import ThriftSourceProtocol  # noqa: E402
from flume.ttypes import ThriftFlumeEvent, Status  # noqa: E402

host, port, lines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
transport = TTransport.TFramedTransport(TSocket.TSocket(host, port))  # Flume's sources expect framing
client = ThriftSourceProtocol.Client(TCompactProtocol.TCompactProtocol(transport))
transport.open()
events = [ThriftFlumeEvent(headers={'source': 'send.py'}, body=line.encode('utf-8')) for line in lines]
status = client.appendBatch(events)
transport.close()
print(Status._VALUES_TO_NAMES[status])
sys.exit(0 if status == Status.OK else 1)
