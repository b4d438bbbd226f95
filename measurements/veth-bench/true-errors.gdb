# Dump the per-second true-error series the daemon already collects (RunSummary.true_errors)
# when it is about to print its final summary. The daemon is not modified: gdb stops once, at
# the end of the run, in print_summary(s: &RunSummary). The release build has line tables only,
# so the Vec is read by offset from `s` (rdi; layout of this build: ptr at +0x18, len at +0x20,
# read off the disassembly of print_summary). analyze.py cross-checks the dumped series
# against the daemon's own `summary: true error ... mean/rms/max` line.
set pagination off
set confirm off
break statime::print_summary
run
python
import gdb, struct
s = int(gdb.parse_and_eval("$rdi"))
mem = gdb.selected_inferior()
ptr = struct.unpack("<Q", bytes(mem.read_memory(s + 0x18, 8)))[0]
n = struct.unpack("<Q", bytes(mem.read_memory(s + 0x20, 8)))[0]
vals = struct.unpack("<%dd" % n, bytes(mem.read_memory(ptr, 8 * n))) if n else ()
print("TRUE_ERRORS_BEGIN")
print(" ".join("%.1f" % v for v in vals))
print("TRUE_ERRORS_END")
end
continue
quit
