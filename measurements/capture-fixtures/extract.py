#!/usr/bin/env python3
"""Turn the pcaps written by capture.sh into PTP byte fixtures.

For every scenario pcap, one representative packet is chosen per distinct
(scenario, message type[, management action/id | signaling TLV]) and written as

  <out>/<scenario>-<name>.bin         the PTP message bytes: the whole UDP
                                      payload, or everything after the
                                      14-byte Ethernet header (ethertype
                                      0x88F7); not truncated to messageLength
  <out>/<scenario>-<name>.tshark.txt  one '#' comment line telling where the
                                      packet came from, then every `ptp.*`
                                      field tshark's PDML output has for
                                      that frame, one `name=show` line each,
                                      in document order (repeats kept);
                                      the one-bit `ptp.v2.flags.*` sub-fields
                                      are listed only when set (1), since
                                      `ptp.v2.flags` already holds them all

plus <out>/index.tsv summarising all fixtures in the directory.

Choice of the representative: packets sent by the master side (its MAC is
given with --master-mac) are preferred; among those the last one in the
capture is taken (steady state).

Only the Python standard library and the `tshark` binary are used.
"""

import argparse
import glob
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

ETH_P_IPV4 = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_VLAN = 0x8100
ETH_P_1588 = 0x88F7
PTP_PORTS = (319, 320)

MSG_NAMES = {
    0x0: "sync",
    0x1: "delay_req",
    0x2: "pdelay_req",
    0x3: "pdelay_resp",
    0x8: "follow_up",
    0x9: "delay_resp",
    0xA: "pdelay_resp_follow_up",
    0xB: "announce",
    0xC: "signaling",
    0xD: "management",
}

MGMT_ACTIONS = {0: "get", 1: "set", 2: "response", 3: "command", 4: "acknowledge"}

# managementId values: IEEE 1588 table plus linuxptp's implementation-specific
# (0xC000..) range as used by linuxptp 3.1.1's pmc.
MGMT_IDS = {
    0x0000: "null_management",
    0x0001: "clock_description",
    0x0002: "user_description",
    0x0003: "save_in_non_volatile_storage",
    0x0004: "reset_non_volatile_storage",
    0x0005: "initialize",
    0x0006: "fault_log",
    0x0007: "fault_log_reset",
    0x2000: "default_data_set",
    0x2001: "current_data_set",
    0x2002: "parent_data_set",
    0x2003: "time_properties_data_set",
    0x2004: "port_data_set",
    0x2005: "priority1",
    0x2006: "priority2",
    0x2007: "domain",
    0x2008: "slave_only",
    0x2009: "log_announce_interval",
    0x200A: "announce_receipt_timeout",
    0x200B: "log_sync_interval",
    0x200C: "version_number",
    0x200D: "enable_port",
    0x200E: "disable_port",
    0x200F: "time",
    0x2010: "clock_accuracy",
    0x2011: "utc_properties",
    0x2012: "traceability_properties",
    0x2013: "timescale_properties",
    0x6000: "delay_mechanism",
    0x6001: "log_min_pdelay_req_interval",
    0xC000: "time_status_np",
    0xC001: "grandmaster_settings_np",
    0xC002: "port_data_set_np",
    0xC003: "subscribe_events_np",
    0xC004: "port_properties_np",
    0xC005: "port_stats_np",
}

TLV_NAMES = {
    0x0001: "management",
    0x0002: "management_error_status",
    0x0003: "organization_extension",
    0x0004: "request_unicast_transmission",
    0x0005: "grant_unicast_transmission",
    0x0006: "cancel_unicast_transmission",
    0x0007: "acknowledge_cancel_unicast_transmission",
    0x0008: "path_trace",
}

# Scenarios whose pcap also carries ordinary traffic already covered by
# another scenario: only these message types are extracted from them.
SCENARIO_TYPES = {"mgmt": {0xD}}


# --------------------------------------------------------------------------
# pcap reading
# --------------------------------------------------------------------------

def read_pcap(path):
    """Yield (frame_number, linktype, bytes) for a classic libpcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: too short for a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file (pcapng?)")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    num = 0
    while off + 16 <= len(data):
        _sec, _frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        num += 1
        yield num, linktype, data[off:off + incl]
        off += incl


def fmt_mac(b):
    return ":".join(f"{x:02x}" for x in b)


def fmt_ip6(b):
    words = [f"{(b[i] << 8) | b[i + 1]:x}" for i in range(0, 16, 2)]
    # compress the longest run of zero words (simple RFC 5952 style)
    best, best_len, i = -1, 0, 0
    while i < 8:
        if words[i] == "0":
            j = i
            while j < 8 and words[j] == "0":
                j += 1
            if j - i > best_len and j - i > 1:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join(words)
    return ":".join(words[:best]) + "::" + ":".join(words[best + best_len:])


def ptp_payload(frame):
    """Return (payload, description, src_mac) or None if not PTP.

    payload is the UDP payload (bounded by the UDP length) or, for raw
    Ethernet PTP, everything after the Ethernet header."""
    if len(frame) < 14:
        return None
    dst, src = frame[0:6], frame[6:12]
    etype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    while etype == ETH_P_VLAN and len(frame) >= off + 4:
        etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    src_mac = fmt_mac(src)
    if etype == ETH_P_1588:
        return frame[off:], f"l2 {src_mac} -> {fmt_mac(dst)} ethertype 0x88f7", src_mac
    if etype == ETH_P_IPV4:
        ip = frame[off:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            return None
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[ihl:total]
        s_ip = ".".join(str(x) for x in ip[12:16])
        d_ip = ".".join(str(x) for x in ip[16:20])
        proto = "udp4"
    elif etype == ETH_P_IPV6:
        ip = frame[off:]
        if len(ip) < 40 or ip[0] >> 4 != 6 or ip[6] != 17:
            return None  # no extension headers expected from ptp4l/pmc
        plen = struct.unpack("!H", ip[4:6])[0]
        udp = ip[40:40 + plen]
        s_ip = fmt_ip6(ip[8:24])
        d_ip = fmt_ip6(ip[24:40])
        proto = "udp6"
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[0:6])
    if dport not in PTP_PORTS and sport not in PTP_PORTS:
        return None
    desc = f"{proto} {s_ip}:{sport} -> {d_ip}:{dport}"
    return udp[8:ulen], desc, src_mac


# --------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------

def classify(p):
    """Fixture name (without scenario prefix) for a PTP message."""
    mtype = p[0] & 0x0F
    name = MSG_NAMES.get(mtype, f"type{mtype:x}")
    if mtype == 0xD and len(p) >= 52:
        action = MGMT_ACTIONS.get(p[46] & 0x0F, f"action{p[46] & 0x0F}")
        tlv_type, tlv_len = struct.unpack("!HH", p[48:52])
        if tlv_type == 0x0002 and len(p) >= 56:
            mid = struct.unpack("!H", p[54:56])[0]
            return f"error-status-{MGMT_IDS.get(mid, f'id{mid:04x}')}"
        if tlv_type == 0x0001 and len(p) >= 54:
            mid = struct.unpack("!H", p[52:54])[0]
            empty = "-empty" if (action == "get" and tlv_len == 2) else ""
            return f"{action}{empty}-{MGMT_IDS.get(mid, f'id{mid:04x}')}"
        return f"{action}-tlv{tlv_type:04x}"
    if mtype == 0xC and len(p) >= 48:
        tlv_type = struct.unpack("!H", p[44:46])[0]
        tname = TLV_NAMES.get(tlv_type, f"tlv{tlv_type:04x}")
        if 0x0004 <= tlv_type <= 0x0007 and len(p) >= 49:
            sub = p[48] >> 4
            return f"signaling-{tname}-{MSG_NAMES.get(sub, f'type{sub:x}')}"
        return f"signaling-{tname}"
    return name


# --------------------------------------------------------------------------
# tshark decode
# --------------------------------------------------------------------------

def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "tshark (unknown version)"


def tshark_ptp_fields(pcap, frames):
    """Map frame number -> [(field name, show value)] for the wanted frames."""
    flt = " || ".join(f"frame.number=={n}" for n in sorted(frames))
    pdml = subprocess.run(
        ["tshark", "-r", pcap, "-Y", flt, "-T", "pdml"],
        capture_output=True, check=True,
    ).stdout
    root = ET.fromstring(pdml)
    result = {}
    for packet in root.iter("packet"):
        num = None
        fields = []
        for proto in packet.findall("proto"):
            if proto.get("name") == "frame":
                for f in proto.iter("field"):
                    if f.get("name") == "frame.number":
                        num = int(f.get("show"))
            if proto.get("name") == "ptp":
                for f in proto.iter("field"):  # document order, nested too
                    name = f.get("name") or ""
                    if name.startswith("ptp."):
                        fields.append((name, f.get("show", "")))
        if num is not None:
            result[num] = fields
    return result


# --------------------------------------------------------------------------

def process(scenario, pcap, out_dir, master_mac):
    wanted_types = SCENARIO_TYPES.get(scenario)
    best = {}  # name -> (rank tuple, frame number, payload, desc)
    for num, linktype, frame in read_pcap(pcap):
        if linktype != 1:
            raise ValueError(f"{pcap}: unsupported linktype {linktype}")
        r = ptp_payload(frame)
        if r is None:
            continue
        payload, desc, src_mac = r
        if len(payload) < 34 or (payload[1] & 0x0F) != 2:
            continue
        if wanted_types is not None and (payload[0] & 0x0F) not in wanted_types:
            continue
        name = classify(payload)
        rank = (src_mac == master_mac.lower(), num)
        if name not in best or rank > best[name][0]:
            best[name] = (rank, num, payload, desc)

    if not best:
        print(f"warning: no PTP messages found in {pcap}", file=sys.stderr)
        return []

    # remove stale fixtures of this scenario, then write the new ones
    for old in glob.glob(os.path.join(out_dir, f"{scenario}-*")):
        os.remove(old)
    decoded = tshark_ptp_fields(pcap, [v[1] for v in best.values()])
    written = []
    for name in sorted(best):
        _rank, num, payload, desc = best[name]
        base = os.path.join(out_dir, f"{scenario}-{name}")
        with open(base + ".bin", "wb") as f:
            f.write(payload)
        msg_len = struct.unpack("!H", payload[2:4])[0]
        fields = decoded.get(num, [])
        with open(base + ".tshark.txt", "w") as f:
            f.write(f"# {os.path.basename(pcap)} frame {num}: {desc};"
                    f" payload {len(payload)} B, messageLength {msg_len}\n")
            for fname, show in fields:
                # The flag bits repeat ptp.v2.flags; list only the set ones.
                if fname.startswith("ptp.v2.flags.") and show == "0":
                    continue
                f.write(f"{fname}={show}\n")
        written.append(base)
        print(f"  {os.path.basename(base)}.bin  type=0x{payload[0] & 0xF:x}"
              f" len={len(payload)} messageLength={msg_len} frame={num}")
    return written


def write_index(out_dir):
    rows = []
    for txt in sorted(glob.glob(os.path.join(out_dir, "*.tshark.txt"))):
        base = txt[: -len(".tshark.txt")]
        binf = base + ".bin"
        if not os.path.exists(binf):
            continue
        with open(binf, "rb") as f:
            p = f.read()
        src = link = ""
        with open(txt) as f:
            first = f.readline()
        if first.startswith("# "):
            src, _, rest = first[2:].partition(": ")
            link = rest.split(";")[0].strip()
        rows.append((os.path.basename(binf), f"0x{p[0] & 0xF:x}",
                     MSG_NAMES.get(p[0] & 0xF, "?"), str(len(p)),
                     str(struct.unpack('!H', p[2:4])[0]), src, link))
    with open(os.path.join(out_dir, "index.tsv"), "w") as f:
        f.write("file\tmessage_type\tmessage_name\tpayload_length\tmessage_length"
                "\tsource\tlink\n")
        for r in rows:
            f.write("\t".join(r) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcap-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--master-mac", default="00:00:5e:00:53:0a")
    ap.add_argument("scenarios", nargs="*",
                    help="scenario names (pcap basenames); default: every *.pcap")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scenarios = args.scenarios or sorted(
        os.path.basename(p)[:-5] for p in glob.glob(os.path.join(args.pcap_dir, "*.pcap")))
    ver = tshark_version()
    print(f"decoder: {ver}")
    for s in scenarios:
        pcap = os.path.join(args.pcap_dir, f"{s}.pcap")
        print(f"{s}: {pcap}")
        process(s, pcap, args.out, args.master_mac)
    write_index(args.out)


if __name__ == "__main__":
    main()
