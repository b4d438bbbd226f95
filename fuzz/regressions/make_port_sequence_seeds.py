#!/usr/bin/env python3
"""Write the hand-built port_sequence seeds (seed-*) into the directory given.

The byte layout follows the decoder in fuzz/harness/port_sequence.rs; change
both together. Usage: python3 make_port_sequence_seeds.py regressions/port_sequence"""
import struct, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def cfg(p2p=False, two_step=True, slave_only=False, p1=255, logs=(7+0,7+0,7+0,7+0)):
    b = bytes([1 if p2p else 0, 1 if two_step else 0, 1 if slave_only else 0, p1, 0])
    b += bytes(logs) + bytes([1]) + struct.pack('<h', 0) + bytes([0, 0, 3, 3]) + struct.pack('<Q', 42)
    b += struct.pack('<I', 1000) + struct.pack('<i', 0)
    return b
def t(delta=0):  # time_near: mode 2 -> ptp_now + i32
    return bytes([2]) + struct.pack('<i', delta)
def build(typ, src=0, seqmode=0, flags=0, reqme=True, ann=None):
    b = bytes([1, typ, src, seqmode, 0, flags, 2, 0, 0]) + t(0) + bytes([0 if reqme else 0xF0])
    if typ == 0:
        p1 = ann if ann is not None else 128
        b += bytes([p1, 248, 0xFE]) + struct.pack('<H', 0xFFFF) + bytes([128, 0, 1, 0])
    b += bytes([0])  # no mutation
    if typ in (1, 4, 5, 7):  # event: rx timestamp
        b += bytes([0]) + t(500)
    return b
def adv(ms): return bytes([9]) + struct.pack('<H', min(ms*1000//1000, 65535))
def jump(): return bytes([10, 0])
def txts(): return bytes([11, 0])
def seconds(n): return bytes([15, n])
def write(name, data):
    open(os.path.join(out, name), 'wb').write(data)
# E2E two-step slave
ops = b''
for i in range(3):
    ops += build(0) + adv(60000)
for i in range(4):
    ops += build(0) + jump() + txts() + build(1, flags=0) + build(2) + build(3, seqmode=2) + adv(30000)
ops += bytes([12, 0])  # calibrated
for i in range(4):
    ops += build(0) + jump() + txts() + build(1) + build(2) + build(3, seqmode=2)
write('seed-e2e-slave', cfg() + ops)
# E2E one-step master sync
ops = b''
for i in range(3):
    ops += build(0) + adv(60000)
for i in range(4):
    ops += build(0) + jump() + txts() + build(1, flags=1) + build(3, seqmode=2) + adv(30000)
write('seed-e2e-onestep', cfg(two_step=False) + ops)
# P2P slave
ops = txts()
for i in range(3):
    ops += build(0) + adv(60000) + txts()
for i in range(6):
    ops += build(0) + jump() + txts() + build(5, seqmode=2) + build(6, seqmode=2) + build(1) + build(2) + adv(30000)
write('seed-p2p-slave', cfg(p2p=True) + ops)
# master answering requests
ops = b''
for i in range(4):
    ops += seconds(10) + txts() + jump() + txts() + build(7, seqmode=3) + txts() + build(4) + txts()
write('seed-master', cfg(p1=0) + ops)
# slave-only, the master goes silent
ops = b''
for i in range(3):
    ops += build(0) + adv(60000)
ops += seconds(30) + jump() + build(0, ann=0) + seconds(30)
write('seed-slave-only', cfg(slave_only=True) + ops)
