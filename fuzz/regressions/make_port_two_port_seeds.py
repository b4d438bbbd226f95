#!/usr/bin/env python3
"""Write the hand-built port_two_port seeds (seed-*) into the directory given.

The byte layout follows the decoder in fuzz/harness/port_two_port.rs; change
both together. Usage:
python3 make_port_two_port_seeds.py regressions/port_two_port"""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

A, B, C, D = 0, 1, 2, 3  # the foreign clocks (see PROFILES in the harness)


def port_cfg(p2p=False, log=0, timeout=3, master_only=False, seed=1):
    logs = bytes([log + 7] * 4)  # announce, sync, delay_req, pdelay_req
    return (bytes([1 if p2p else 0]) + logs
            + bytes([timeout - 2, 0xFF if master_only else 0, 0, 3])
            + struct.pack('<H', seed))


def cfg(p1=128, p2=128, slave_only=False, ports=(port_cfg(), port_cfg(seed=2))):
    flags = 0x0E if slave_only else 0  # bit 0 clear: two-step
    return (bytes([flags, p1, p2, 0, 0]) + ports[0] + ports[1]
            + struct.pack('<I', 1000) + struct.pack('<i', 0))


def t(delta=0):  # time_near mode 2: ptp_now + delta ns
    return bytes([2]) + struct.pack('<i', delta)


def announce(port, clock):
    # op, clock, sequence from the counter, the profile, flags 0, origin
    # timestamp, no PATH_TRACE, no mutation
    return bytes([1 | (port << 4), clock, 0, 0, 0]) + t() + bytes([0, 0])


def relay(port, clock, gm, steps, p1=100):
    """An Announce of `clock` with the fields given: grandmaster `gm` (a
    foreign clock) at `steps`, priority1 `p1`."""
    custom = bytes([p1, 248, 0xFE]) + struct.pack('<H', 0xFFFF) + bytes([128, 0, gm, steps])
    return bytes([1 | (port << 4), clock, 0, 0xE0]) + custom + bytes([0]) + t() + bytes([0, 0])


def build(port, typ, src, seqmode=0):
    # typ indexes TYPES (0 Sync, 1 Follow_Up, 2 Delay_Resp, 3 Pdelay_Req,
    # 4 Pdelay_Resp, 5 Pdelay_Resp_Follow_Up, 6 Delay_Req); the source is
    # foreign clock `src` as seen on `port`; flags two-step; our domain; no
    # correction; origin now; requester this port; no mutation.
    b = bytes([5 | (port << 4), typ, src, seqmode, 0, 0, 2]) + t(0) + bytes([0, 0])
    if typ in (0, 3, 4, 6):  # event: receive timestamp
        b += bytes([0]) + t(500)
    return b


def adv_us(us):
    return bytes([9]) + struct.pack('<H', us)


def tx(port):
    return bytes([11 | (port << 4), 0])


def seconds(n):
    return bytes([15, n])


def calibrated():
    return bytes([12, 0])


def write(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


def qualify(a_port, a_clock, b_port, b_clock):
    """Two Announces of each clock, 50 ms apart: both qualify."""
    ops = announce(a_port, a_clock) + announce(b_port, b_clock) + adv_us(50000)
    ops += announce(a_port, a_clock) + announce(b_port, b_clock)
    return ops


def run_for(n, a_port, a_clock, b_port, b_clock):
    """n seconds of Announces on both ports, transmit timestamps back."""
    ops = b''
    for _ in range(n):
        ops += tx(0) + tx(1) + seconds(1) + tx(0) + tx(1)
        ops += announce(a_port, a_clock) + announce(b_port, b_clock)
    return ops


# Port 1 slave of A; B on port 2 is worse than A but not beaten by this
# clock: M3, PRE_MASTER for 2 s (stepsRemoved 1 + 1 intervals), MASTER.
ops = qualify(0, A, 1, B) + tx(0) + run_for(4, 0, A, 1, B) + calibrated()
ops += run_for(2, 0, A, 1, B)
write('seed-premaster-master', cfg() + ops)

# The other way round: port 2 slave of A, port 1 hears only D, which this
# clock beats (M2: MASTER at once), then B, which it does not (M3).
ops = qualify(1, A, 0, D) + run_for(3, 1, A, 0, D)
ops += run_for(4, 1, A, 0, B) + calibrated() + run_for(1, 1, A, 0, B)
write('seed-m2-then-m3', cfg() + ops)

# C (a boundary clock below A) on port 1, and D passing on A at the same
# stepsRemoved on port 2: two paths to A, the second worse only by the
# identities (P2, PASSIVE).
ops = b''
for i in range(6):
    ops += announce(0, C) + relay(1, D, A, 1) + tx(0) + tx(1) + adv_us(50000)
    if i >= 2:
        ops += seconds(1)
write('seed-redundant-path', cfg() + ops)

# The parent moves: B on port 1, then A appears on port 2; port 1 goes
# through PRE_MASTER, then A goes silent and B takes over again.
ops = qualify(0, B, 1, D) + run_for(3, 0, B, 1, D)
ops += run_for(4, 0, B, 1, A) + seconds(20) + run_for(4, 0, B, 1, D)
write('seed-parent-moves', cfg(p1=200) + ops)

# Slave-only: never MASTER or PRE_MASTER on either port.
ops = qualify(0, A, 1, B) + run_for(4, 0, A, 1, B) + seconds(30)
write('seed-slave-only', cfg(slave_only=True) + ops)

# P2P on both ports, with Sync/Follow_Up from A (port 1) and peer delay
# requests answered.
ports = (port_cfg(p2p=True), port_cfg(p2p=True, seed=2))
ops = qualify(0, A, 1, B)
for _ in range(4):
    ops += tx(0) + tx(1) + seconds(1) + tx(0) + tx(1)
    ops += announce(0, A) + announce(1, B)
    ops += build(0, 4, A, seqmode=2) + build(0, 5, A, seqmode=2)
    ops += build(0, 0, A) + build(0, 1, A) + build(1, 3, B)
write('seed-p2p', cfg(ports=ports) + ops)
