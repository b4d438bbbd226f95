#!/usr/bin/env python3
"""Write the hand-built peer_message seeds (seed-*) into the directory given.

The byte layout follows the decoder in fuzz/harness/peer_message.rs; change
both together. Usage:
python3 make_peer_message_seeds.py regressions/peer_message"""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

P0, P1, STRANGER, SELF, ANY = 0, 3, 5, 6, 7  # sender selectors
REQUEST, RESPONSE, FOLLOW_UP, UNKNOWN = 0, 3, 5, 7  # kind selectors


def cfg(tx_timestamps=True, fan_out=2, tolerance=100):
    b = bytes([0])                       # poll interval 1 s
    b += bytes([fan_out - 1])            # fan-out
    b += struct.pack('<Q', 7)            # seed
    b += bytes([0])                      # response timeout 500 ms
    b += bytes([1 if tx_timestamps else 0])
    b += struct.pack('<H', tolerance)    # delay tolerance
    b += bytes([0])                      # max HLC lead 1 ms
    b += bytes([0])                      # own drift 15 ppm
    b += bytes([0])                      # seq_base 0
    b += struct.pack('<I', 1000) + struct.pack('<i', 0)  # mono, clock offset
    return b


def near(delta=0):  # a time on our clock + delta ns
    return bytes([0]) + struct.pack('<i', delta)


def msg(kind, sender=P0, receiver=None, key=0, seq=0, status=0, hlc=None,
        echo=True, t1=0, t2=20_000, t3=30_000, interval=(50, 0), sign=0,
        mutation=b'', rx=60_000, outstanding=True):
    """A built message (operation 1). `echo`: take echo_seq/t1 (and a
    follow-up's t2) from the outstanding exchange with the sender (there
    must be one; `outstanding` says whether there is one when not echoing);
    `interval` (half width, centre in us) for selector 0, or raw bytes;
    `sign` 0 for the right key, 0xF0 for a MAC of zeros from the input."""
    b = bytes([1, kind])
    if kind == UNKNOWN:
        b += bytes([9])                  # message type code 9
    b += bytes([sender])
    if sender == ANY:
        b += struct.pack('<Q', 99)
    b += bytes([0]) if receiver is None else bytes([0xF0]) + struct.pack('<Q', receiver)
    b += bytes([key])
    b += bytes([seq]) if isinstance(seq, int) else seq
    b += bytes([status])
    b += bytes([0])                      # flags: two-step
    b += hlc if hlc is not None else bytes([0]) + struct.pack('<h', 0)
    b += bytes([0])                      # logical 0
    if kind == UNKNOWN:
        echo = outstanding = False       # never matched against an exchange
    if kind == REQUEST:
        b += near(t1)
    elif echo:
        b += bytes([0])                  # echo the outstanding request
    else:
        b += bytes([0xE0]) if outstanding else b''
        b += struct.pack('<QQ', 12345, 67890)
    if kind == FOLLOW_UP and echo:
        b += bytes([0])                  # t2 of the reply
    elif kind != REQUEST:
        b += near(t2)
    if kind != REQUEST:
        b += near(t3)
    if isinstance(interval, tuple):
        b += bytes([0]) + struct.pack('<Hh', interval[0], interval[1])
    else:
        b += interval
    b += bytes([sign])
    if 0xF0 <= sign <= 0xF7:
        b += bytes(32)
    b += mutation if mutation else bytes([0])
    b += bytes([0])                      # from the claimed sender's address
    b += near(rx)
    return b


def silence(s):
    return bytes([15, s])


def jump():
    return bytes([10, 0])


def tx(delta=5_000):  # a transmit time stamp for the first live handle
    return bytes([11, 0, 0]) + near(delta)


def replay(i=0):
    return bytes([7, i, 0, 0]) + near(0)


def write(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


# Exchanges with both peers, two-step: requests, their transmit stamps,
# responses, follow-ups (refined samples), a request answered and its
# follow-up sent, then a replay, a far-future HLC and a late follow-up.
ops = silence(2) + tx() + tx()
ops += msg(RESPONSE, P0) + msg(RESPONSE, P1, status=2)
ops += msg(FOLLOW_UP, P0, t3=29_000) + msg(FOLLOW_UP, P1, t3=29_000)
ops += msg(REQUEST, P1, t1=-10_000) + tx()
ops += replay(0) + replay(1)
for _ in range(3):
    ops += silence(1) + tx() + tx()
    ops += msg(RESPONSE, P0) + msg(FOLLOW_UP, P0)
    ops += msg(RESPONSE, P1, hlc=bytes([4]) + struct.pack('<I', 5_000_000))
    ops += msg(REQUEST, P0) + tx()
ops += msg(FOLLOW_UP, P0)   # a second follow-up: unmatched
write('seed-exchanges-two-step', cfg() + ops)

# One-step: samples without follow-ups; a negative round trip; a peer with
# a huge bound; a request whose answer goes to the configured address.
ops = silence(2)
ops += msg(RESPONSE, P0) + msg(RESPONSE, P1, t2=20_000, t3=200_000)
for _ in range(3):
    ops += silence(1) + msg(RESPONSE, P0, interval=bytes([5]))
    ops += msg(RESPONSE, P1) + msg(REQUEST, P1)
write('seed-exchanges-one-step', cfg(tx_timestamps=False) + ops)

# Every reason to drop: length, magic, version, inverted interval, not for
# us, unknown peer, unknown key, bad MAC, duplicate, too old, unmatched,
# unknown type; and a mutation signed again, which gets through.
ops = silence(2)
ops += bytes([0, 5]) + b'short' + bytes([0]) + near(0)                # length
ops += msg(REQUEST, P0, mutation=bytes([200, 0, 3, ord('X'), 0x00]))  # magic (not signed again)
ops += msg(REQUEST, P0, mutation=bytes([200, 4, 3, 2, 0x00]))         # version
ops += msg(REQUEST, P0, interval=bytes([7]) + struct.pack('<qq', 5, -5))  # inverted
ops += msg(REQUEST, P0, receiver=77)                                  # not for us
ops += msg(REQUEST, ANY)                                              # unknown peer
ops += msg(REQUEST, P0, key=6)                                        # key id 3: unknown
ops += msg(REQUEST, P0, sign=0xF0)                                     # bad MAC (zeros)
ops += msg(REQUEST, P0, seq=bytes([6, 200]))                          # seq 0: too old
ops += msg(REQUEST, P0) + replay(0)                                   # duplicate
ops += msg(FOLLOW_UP, P1, echo=False)                                 # unmatched
ops += msg(UNKNOWN, P0)                                               # unknown type
ops += msg(REQUEST, P0, mutation=bytes([200, 60, 3, 0x55, 0x80]))     # t1 changed, signed again
write('seed-hostile', cfg() + ops)

# Key rotation: a key added and made the sending key, the old one removed;
# messages under each.
ops = silence(2)
ops += bytes([13, 0, 1, 0])          # insert key 2 of peer 11
ops += msg(REQUEST, P0, key=5)       # under key 2
ops += bytes([13, 0, 1, 2])          # send with key 2
ops += bytes([13, 0, 0, 1])          # remove key 1
ops += msg(REQUEST, P0, key=0)       # sending key (2)
ops += tx() + silence(1) + tx() + msg(RESPONSE, P0) + msg(FOLLOW_UP, P0)
ops += bytes([13, 1, 1, 1])          # remove key 2 of peer 12: 1 stays
ops += msg(REQUEST, P1, key=5)       # unknown key now
ops += bytes([12, 0, 0x10, 0x27, 1]) + msg(REQUEST, P1)  # own bound +-10 us, synchronized
ops += bytes([14]) + struct.pack('<i', -5_000)            # clock step back 5 ms
ops += msg(REQUEST, P1) + jump() + jump()
write('seed-key-rotation', cfg() + ops)
