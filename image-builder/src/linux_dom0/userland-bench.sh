#!/bin/sh
# The userland benchmark's dom0 side (image-builder/src/userland_bench.rs
# runs it in the Linux dom0).
#
# For each line `NAME CONFIG` of /tmp/runs.txt: start xentrace (PV entry
# and scheduler events only, buffers discarded first), `xl create -p` the
# guest, note its domid, unpause it (it runs xenrs-bench as init and
# powers itself off), wait until it
# is gone, stop xentrace, count the trace's hypercalls per domain with
# xentrace-count, and record the guest's domid. It checks nothing itself:
# RESULT lines as it goes, then every guest's console log and count
# between BEGIN-FILE/END-FILE markers, printed again at the end while Xen
# is quiet.
#
# Files (copied from /test to /tmp by init): xenrs.elf, initrd.cpio,
# linux-bench.cpio, xentrace-count, runs.txt, one <NAME>.cfg per run,
# bench.env (TRACE_PAGES, EVENT_MASK, RUN_SECONDS).

set -u
LOGS=/var/log/xen/console
OUT=/tmp/out
mkdir -p "$OUT"
: > "$OUT/results"
. /tmp/bench.env

result() {
    echo "RESULT $*"
    echo "$*" >> "$OUT/results"
}
ns() { date +%s%N; }
dump() {
    echo "BEGIN-FILE $1"
    if [ -f "$2" ]; then
        cat "$2"
        [ -z "$(tail -c 1 "$2")" ] || echo
    fi
    echo "END-FILE $1"
}

chmod +x /tmp/xentrace-count
while read -r name config; do
    [ -n "$name" ] || continue
    echo "STEP run $name"
    trace=/tmp/trace-$name.bin
    # -D: drop what earlier runs left in Xen's buffers; -S: pages per CPU
    # (set once per boot; later runs reuse the buffers).
    xentrace -D -S "$TRACE_PAGES" -e "$EVENT_MASK" "$trace" > "$OUT/xentrace-$name" 2>&1 &
    tracer=$!
    # xentrace has enabled tracing once it has created the file and
    # mapped the buffers; give it a moment either way.
    tries=0
    until [ -f "$trace" ] || [ "$tries" -ge 100 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
    sleep 1
    # Created paused, so that its domid can be read before it runs: a
    # quick guest can be gone before `xl create` has returned.
    t0=$(ns)
    create=$(timeout 120 xl create -p "/tmp/$config" > "$OUT/create-$name" 2>&1; echo $?)
    domid=$(xl domid "$name" 2>/dev/null || echo none)
    xl unpause "$name" >> "$OUT/create-$name" 2>&1
    # It powers itself off when the benchmark is done (on_poweroff=destroy).
    limit=$(($(date +%s) + RUN_SECONDS))
    outcome=finished
    while xl domid "$name" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$limit" ]; then
            outcome=timeout
            timeout 60 xl destroy "$name" >/dev/null 2>&1
            break
        fi
        sleep 0.1
    done
    t1=$(ns)
    kill -INT "$tracer" 2>/dev/null
    wait "$tracer"
    tracer_status=$?
    size=$(wc -c < "$trace" 2>/dev/null || echo 0)
    /tmp/xentrace-count "$trace" > "$OUT/count-$name" 2>&1
    count_status=$?
    rm -f "$trace"
    result "run=$name" "domid=$domid" "create-status=$create" "outcome=$outcome" \
        "run-ns=$((t1 - t0))" "xentrace-status=$tracer_status" "trace-bytes=$size" \
        "count-status=$count_status"
    dump "count-$name" "$OUT/count-$name"
    dump "guest-$name" "$LOGS/guest-$name.log"
done < /tmp/runs.txt

echo "STEP done"
while read -r name config; do
    [ -n "$name" ] || continue
    dump "count-$name" "$OUT/count-$name"
    dump "guest-$name" "$LOGS/guest-$name.log"
    dump "xentrace-$name" "$OUT/xentrace-$name"
    dump "create-$name" "$OUT/create-$name"
done < /tmp/runs.txt
dump results "$OUT/results"
exit 0
