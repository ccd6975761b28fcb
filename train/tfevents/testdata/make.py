#!/usr/bin/python3
"""Writes testdata/scalars.tfevents, the known-good event file that
record_test.go compares kiln's writer against and parses back.

The events are encoded by the reference protobuf library (Debian's
python3-protobuf, from a subset of TensorFlow's event.proto and
summary.proto with the same field numbers, compiled with protoc), and framed
as TFRecords with CRC-32C computed here by hand and cross-checked against
crcmod's "crc-32c". Run from this folder:

    apt-get install python3-protobuf protobuf-compiler python3-crcmod
    /usr/bin/python3 make.py
"""
import os
import struct
import subprocess
import sys
import tempfile

import crcmod.predefined

PROTO = """
syntax = "proto3";
package tensorflow;
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value { float simple_value = 2; }
  }
  repeated Value value = 1;
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
    SessionLog session_log = 7;
  }
}
"""


def crc32c(data):
    """CRC-32C (Castagnoli), reflected, bit by bit."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    assert c == crcmod.predefined.mkCrcFun("crc-32c")(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked(n)) + data + struct.pack("<I", masked(data))


def main():
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "event.proto"), "w") as f:
        f.write(PROTO)
    subprocess.check_call(["protoc", "--python_out=" + tmp, "-I" + tmp, os.path.join(tmp, "event.proto")])
    sys.path.insert(0, tmp)
    import event_pb2 as pb

    events = []
    e = pb.Event(wall_time=1700000000.25, file_version="brain.Event:2")
    events.append(e)
    e = pb.Event(wall_time=1700000001.5, step=1)
    e.summary.value.add(tag="loss/train", simple_value=0.6931472)
    events.append(e)
    e = pb.Event(wall_time=1700000002.75, step=300)
    e.summary.value.add(tag="accuracy/val", simple_value=0.875)
    events.append(e)
    e = pb.Event(wall_time=1700000003.0, step=7)
    e.summary.value.add(tag="a", simple_value=1.0)
    e.summary.value.add(tag="b", simple_value=0.0)
    events.append(e)
    e = pb.Event(wall_time=1700000004.125, step=1 << 40)
    e.summary.value.add(tag="lr", simple_value=-1.5e-3)
    events.append(e)
    e = pb.Event(wall_time=1700000005.0, step=300)
    e.session_log.status = pb.SessionLog.START
    events.append(e)

    out = b"".join(record(e.SerializeToString()) for e in events)
    with open("scalars.tfevents", "wb") as f:
        f.write(out)
    print("wrote scalars.tfevents,", len(out), "bytes,", len(events), "events")


if __name__ == "__main__":
    main()
