#!/bin/sh
# The domU flow (image-builder/src/domu_flow.rs runs it in the Linux dom0).
#
# Boots, under xl, a Linux PV domU (the reference) and our kernel, and
# drives our kernel through the toolstack's requests: memory target,
# shutdown, reboot, destroy. It checks nothing itself: it prints what
# happened as `RESULT key=value` lines and files between
# `BEGIN-FILE name` / `END-FILE name` markers, and the Rust side decides.
# Everything is also kept in /tmp/out and printed again at the end, when
# no guest is running and Xen is quiet (Xen's own console lines can land in
# the middle of a line printed while guests are busy).
#
# Files (copied from /test to /tmp by init): xenrs.elf, xenrs1.cfg,
# xenrs2.cfg (on_reboot=restart), xenrs3.cfg, xenrs4.cfg (no self-checks),
# linux1.cfg; for steps h and i flow.env (SPIN_SECONDS, CAP_PERCENT,
# MIN_MEMORY_STEPS), xenrs-share-a.cfg, xenrs-share-b.cfg, xenrs-capped.cfg
# (spinning, pinned to CPU 1) and xenrs-mem<MiB>.cfg per memory step.

set -u
LOGS=/var/log/xen/console
OUT=/tmp/out
mkdir -p "$OUT"
: > "$OUT/results"

step() { echo "STEP $*"; }
result() {
    echo "RESULT $*"
    echo "$*" >> "$OUT/results"
}
ns() { date +%s%N; }
# The domid of a domain, or "none".
domid_of() { xl domid "$1" 2>/dev/null || echo none; }

# How many lines of FILE match PATTERN (grep -E); 0 if there is no FILE.
count_lines() {
    n=$(grep -c -E -- "$2" "$1" 2>/dev/null)
    echo "${n:-0}"
}

# wait_count FILE PATTERN COUNT SECONDS [DOMAIN]: waits until FILE has
# COUNT lines matching PATTERN (grep -E), polling every 20 ms. Prints
# found, timeout, or gone (DOMAIN no longer exists and the lines never came).
wait_count() {
    file=$1 pattern=$2 count=$3 limit=$(($(date +%s) + $4)) domain=${5:-} polls=0
    while [ "$(count_lines "$file" "$pattern")" -lt "$count" ]; do
        polls=$((polls + 1))
        if [ $((polls % 25)) -eq 0 ]; then
            if [ "$(date +%s)" -ge "$limit" ]; then
                echo timeout
                return
            fi
            if [ -n "$domain" ] && ! xl domid "$domain" >/dev/null 2>&1; then
                sleep 0.2
                if [ "$(count_lines "$file" "$pattern")" -ge "$count" ]; then
                    echo found
                else
                    echo gone
                fi
                return
            fi
        fi
        sleep 0.02
    done
    echo found
}

# Waits up to SECONDS for DOMAIN to disappear from `xl list`.
wait_gone() {
    limit=$(($(date +%s) + $2))
    while xl domid "$1" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$limit" ] && return 1
        sleep 0.1
    done
}

# What is left of the given domids: xenstore nodes, libxl's user data,
# `xl list` rows, /vm entries beyond the baseline. Prints "none" or a
# comma-separated list. Retries for a few seconds (clean-up may lag).
residue_once() {
    found=""
    for id in "$@"; do
        case "$id" in '' | none) continue ;; esac
        xenstore-exists "/local/domain/$id" 2>/dev/null && found="$found,local/domain/$id"
        xenstore-exists "/libxl/$id" 2>/dev/null && found="$found,libxl/$id"
        ls /var/lib/xen 2>/dev/null | grep -q "^userdata-d\.$id\." && found="$found,userdata-d.$id"
        xl list 2>/dev/null | awk -v id="$id" 'NR > 1 && $2 == id { ok = 1 } END { exit !ok }' &&
            found="$found,xl-list:$id"
    done
    vms=$(xenstore-list /vm 2>/dev/null | wc -l)
    [ "$vms" -gt "$VM_BASELINE" ] && found="$found,vm-entries:+$((vms - VM_BASELINE))"
    echo "${found#,}"
}
residue() {
    tries=0
    while :; do
        left=$(residue_once "$@")
        if [ -z "$left" ]; then
            echo none
            return
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ]; then
            echo "$left"
            return
        fi
        sleep 0.1
    done
}

# xl destroy NAME, retried while the domain exists (a guest that restarts
# itself can slip between `xl domid` and the destroy); prints the first
# attempt's status.
destroy() {
    first=$(save "$1-destroy" timeout 60 xl destroy "$1")
    tries=0
    while xl domid "$1" >/dev/null 2>&1 && [ "$tries" -lt 10 ]; do
        timeout 60 xl destroy "$1" >/dev/null 2>&1
        tries=$((tries + 1))
        sleep 0.5
    done
    echo "$first"
}

# wait_all PATTERN SECONDS NAME...: polls the console logs of the domains
# NAME... every 20 ms until each has a line matching PATTERN (grep -E), at
# most SECONDS. Prints one word per NAME, in order: dom0's clock (ns) when
# the line was first seen, or timeout, or gone (the domain vanished
# without it). Stops early when every domain still missing a line is gone.
wait_all() {
    wa_pattern=$1 wa_limit=$(($(date +%s) + $2)) wa_polls=0
    shift 2
    wa_i=0
    for wa_name in "$@"; do
        wa_i=$((wa_i + 1))
        eval "wa_at_$wa_i=none"
    done
    while :; do
        wa_i=0 wa_left=0
        for wa_name in "$@"; do
            wa_i=$((wa_i + 1))
            eval "wa_at=\$wa_at_$wa_i"
            [ "$wa_at" = none ] || continue
            if grep -q -E -- "$wa_pattern" "$LOGS/guest-$wa_name.log" 2>/dev/null; then
                eval "wa_at_$wa_i=$(ns)"
            else
                wa_left=$((wa_left + 1))
            fi
        done
        [ "$wa_left" -eq 0 ] && break
        wa_polls=$((wa_polls + 1))
        if [ $((wa_polls % 25)) -eq 0 ]; then
            [ "$(date +%s)" -ge "$wa_limit" ] && break
            wa_i=0 wa_alive=0
            for wa_name in "$@"; do
                wa_i=$((wa_i + 1))
                eval "wa_at=\$wa_at_$wa_i"
                [ "$wa_at" = none ] && xl domid "$wa_name" >/dev/null 2>&1 && wa_alive=1
            done
            if [ "$wa_alive" -eq 0 ]; then
                # All gone: xenconsoled may still be writing the last lines.
                sleep 0.2
                wa_i=0
                for wa_name in "$@"; do
                    wa_i=$((wa_i + 1))
                    eval "wa_at=\$wa_at_$wa_i"
                    [ "$wa_at" = none ] &&
                        grep -q -E -- "$wa_pattern" "$LOGS/guest-$wa_name.log" 2>/dev/null &&
                        eval "wa_at_$wa_i=$(ns)"
                done
                break
            fi
        fi
        sleep 0.02
    done
    wa_i=0 wa_out=""
    for wa_name in "$@"; do
        wa_i=$((wa_i + 1))
        eval "wa_at=\$wa_at_$wa_i"
        if [ "$wa_at" = none ]; then
            if xl domid "$wa_name" >/dev/null 2>&1; then wa_at=timeout; else wa_at=gone; fi
        fi
        wa_out="$wa_out $wa_at"
    done
    echo "${wa_out# }"
}

# wait_ready NAME SECONDS: waits until NAME's console has a `ready:` line.
# Prints ready, crashed or shutdown (the domain stopped first; its state in
# `xl list`), gone (it vanished), or timeout.
wait_ready() {
    wr_log="$LOGS/guest-$1.log" wr_limit=$(($(date +%s) + $2)) wr_polls=0
    while :; do
        if grep -q '^ready: ' "$wr_log" 2>/dev/null; then
            echo ready
            return
        fi
        wr_polls=$((wr_polls + 1))
        if [ $((wr_polls % 10)) -eq 0 ]; then
            wr_state=$(xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }')
            case "$wr_state" in
                '')
                    sleep 0.2
                    if grep -q '^ready: ' "$wr_log" 2>/dev/null; then echo ready; else echo gone; fi
                    return
                    ;;
                *c*)
                    echo crashed
                    return
                    ;;
                *s*)
                    echo shutdown
                    return
                    ;;
            esac
            if [ "$(date +%s)" -ge "$wr_limit" ]; then
                echo timeout
                return
            fi
        fi
        sleep 0.02
    done
}

# Saves a command's output as file NAME (printed at the end); prints its status.
save() {
    name=$1
    shift
    "$@" > "$OUT/$name" 2>&1
    echo $?
}

dump() {
    echo "BEGIN-FILE $1"
    if [ -f "$2" ]; then
        cat "$2"
        [ -z "$(tail -c 1 "$2")" ] || echo
    fi
    echo "END-FILE $1"
}

# ---- a: sanity ------------------------------------------------------------
step "a: xl info, xl list"
result xl-info-status="$(save xl-info timeout 60 xl info)"
result xl-list-status="$(save xl-list-initial timeout 60 xl list)"
result xen-version="$(awk -F': *' '$1 ~ /^xen_version/ { print $2 }' "$OUT/xl-info")"
VM_BASELINE=$(xenstore-list /vm 2>/dev/null | wc -l)
save local-domain-initial xenstore-list /local/domain >/dev/null

# ---- b: the Linux PV domU ----------------------------------------------------
step "b: Linux PV domU"
t0=$(ns)
status=$(save linux1-create timeout 120 xl create /tmp/linux1.cfg)
t1=$(ns)
linux_id=$(domid_of linux1)
wait=$(wait_count "$LOGS/guest-linux1.log" '^ready: linux' 1 90 linux1)
t2=$(ns)
uptime=$(sed -n 's/^ready: linux uptime=\([0-9.]*\).*/\1/p' "$LOGS/guest-linux1.log" 2>/dev/null | head -n 1)
result linux-create-status="$status" linux-domid="$linux_id" linux-ready-wait="$wait"
result linux-create-ns=$((t1 - t0)) linux-ready-ns=$((t2 - t0)) linux-guest-uptime-s="${uptime:-none}"
# It powers itself off (on_poweroff=destroy).
wait_gone linux1 60 || destroy linux1 >/dev/null
result linux-residue="$(residue "$linux_id")"

# ---- b2: our kernel without self-checks: the benchmark's counterpart ----------
step "b2: xenrs4 without self-checks (benchmark)"
t0=$(ns)
status=$(save xenrs4-create timeout 120 xl create /tmp/xenrs4.cfg)
t1=$(ns)
xenrs4_id=$(domid_of xenrs4)
wait=$(wait_count "$LOGS/guest-xenrs4.log" '^ready: ' 1 60 xenrs4)
t2=$(ns)
result xenrs-plain-create-status="$status" xenrs-plain-ready-wait="$wait"
result xenrs-plain-create-ns=$((t1 - t0)) xenrs-plain-ready-ns=$((t2 - t0))
status=$(destroy xenrs4)
result xenrs-plain-destroy-status="$status" xenrs-plain-residue="$(residue "$xenrs4_id")"

# ---- c: our kernel as a domU ---------------------------------------------------
step "c: xenrs1 boot"
wall_before=$(date +%s.%N)
t0=$(ns)
status=$(save xenrs1-create timeout 120 xl create /tmp/xenrs1.cfg)
t1=$(ns)
xenrs1_id=$(domid_of xenrs1)
wait=$(wait_count "$LOGS/guest-xenrs1.log" '^ready: ' 1 60 xenrs1)
t2=$(ns)
wall_after=$(date +%s.%N)
result xenrs-create-status="$status" xenrs1-domid="$xenrs1_id" xenrs-ready-wait="$wait"
result xenrs-create-ns=$((t1 - t0)) xenrs-ready-ns=$((t2 - t0))
result xenrs-wall-before="$wall_before" xenrs-wall-after="$wall_after"

# ---- d: memory target --------------------------------------------------------
for mib in 24 32; do
    step "d: xl mem-set xenrs1 ${mib}m"
    kib=$((mib * 1024))
    status=$(save "memset$mib" timeout 60 xl mem-set xenrs1 "${mib}m")
    wait=$(wait_count "$LOGS/guest-xenrs1.log" "^balloon: target $kib KiB" 1 10 xenrs1)
    sleep 1
    target=$(xenstore-read "/local/domain/$xenrs1_id/memory/target" 2>/dev/null || echo none)
    save "xl-list-memset$mib" xl list >/dev/null
    listed=$(xl list xenrs1 2>/dev/null | awk 'NR == 2 { print $3 }')
    result "memset$mib-status=$status" "memset$mib-balloon-wait=$wait" \
        "memset$mib-target-kib=$target" "memset$mib-list-mib=${listed:-none}"
done

# ---- e: shutdown ---------------------------------------------------------------
step "e: xl shutdown -w xenrs1"
t0=$(ns)
status=$(save xenrs1-shutdown timeout 60 xl shutdown -w xenrs1)
t1=$(ns)
listed=$(xl list 2>/dev/null | awk '$1 == "xenrs1"' | wc -l)
save local-domain-after-shutdown xenstore-list /local/domain >/dev/null
save libxl-after-shutdown xenstore-list /libxl >/dev/null
[ "$listed" -eq 0 ] || destroy xenrs1 >/dev/null
result xenrs1-shutdown-status="$status" xenrs1-shutdown-ns=$((t1 - t0))
result xenrs1-listed-after-shutdown="$listed" xenrs1-residue="$(residue "$xenrs1_id")"

# ---- f: reboot -------------------------------------------------------------------
step "f: xl reboot xenrs2 (on_reboot=restart)"
status=$(save xenrs2-create timeout 120 xl create /tmp/xenrs2.cfg)
first_id=$(domid_of xenrs2)
wait=$(wait_count "$LOGS/guest-xenrs2.log" '^ready: ' 1 60 xenrs2)
result xenrs2-create-status="$status" xenrs2-first-domid="$first_id" xenrs2-ready-wait="$wait"
if [ "$wait" = found ]; then
    t0=$(ns)
    status=$(save xenrs2-reboot timeout 60 xl reboot xenrs2)
    if [ "$status" = 0 ]; then
        # No domain name here: it disappears for a moment while libxl
        # restarts it.
        wait=$(wait_count "$LOGS/guest-xenrs2.log" 'booting as domU' 2 60)
        t1=$(ns)
        second_id=$(domid_of xenrs2)
        ready2=$(wait_count "$LOGS/guest-xenrs2.log" '^ready: ' 2 60 xenrs2)
    else
        wait=skipped t1=$(ns) second_id=none ready2=skipped
    fi
    result xenrs2-reboot-status="$status" xenrs2-second-banner-wait="$wait" \
        xenrs2-reboot-ns=$((t1 - t0))
else
    # Not up: a reboot request would only wait for nothing.
    second_id=none ready2=skipped
    result xenrs2-reboot-status=skipped xenrs2-second-banner-wait=skipped
fi
banners=$(count_lines "$LOGS/guest-xenrs2.log" 'booting as domU')
result xenrs2-second-domid="$second_id" xenrs2-second-ready-wait="$ready2" xenrs2-banners="$banners"
status=$(destroy xenrs2)
result xenrs2-destroy-status="$status" xenrs2-residue="$(residue "$first_id" "$second_id")"

# ---- g: destroy at once ---------------------------------------------------------
step "g: xl create xenrs3, then xl destroy at once"
status=$(save xenrs3-create timeout 120 xl create /tmp/xenrs3.cfg)
xenrs3_id=$(domid_of xenrs3)
destroy=$(destroy xenrs3)
result xenrs3-create-status="$status" xenrs3-domid="$xenrs3_id" xenrs3-destroy-status="$destroy"
result xenrs3-residue="$(residue "$xenrs3_id")"

# ---- h: CPU share ------------------------------------------------------------------
. /tmp/flow.env
step "h: CPU share: two spinning domUs pinned to one CPU"
h_start=$(ns)
# dom0's kernel initialises its random generator only when something
# blocks on it; until then every `xl create` spends ~3 s in libuuid's
# getrandom retries (it sleeps 125 ms between tries). One blocking read
# ends that (a real host does it within seconds of boot).
t0=$(ns)
dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null
crng=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] random: crng init done.*/\1/p' | head -n 1)
result crng-seed-ns=$(($(ns) - t0)) crng-init-s="${crng:-none}"
spin_limit=$((SPIN_SECONDS + 16))
t0=$(ns)
status_a=$(save xenrs-share-a-create timeout 60 xl create -p /tmp/xenrs-share-a.cfg)
t1=$(ns)
status_b=$(save xenrs-share-b-create timeout 60 xl create -p /tmp/xenrs-share-b.cfg)
result share-a-create-ns=$((t1 - t0)) share-b-create-ns=$(($(ns) - t1))
share_a_id=$(domid_of xenrs-share-a)
share_b_id=$(domid_of xenrs-share-b)
result share-a-create-status="$status_a" share-b-create-status="$status_b"
# Back to back: their spin windows should nearly coincide. Every time
# below is relative to t0, just before the first unpause.
t0=$(ns)
unpause_a=$(save xenrs-share-a-unpause xl unpause xenrs-share-a)
unpause_b=$(save xenrs-share-b-unpause xl unpause xenrs-share-b)
t1=$(ns)
save xl-vcpu-list-share xl vcpu-list >/dev/null
seen=$(wait_all '^cpu-share:' "$spin_limit" xenrs-share-a xenrs-share-b)
set -- $seen
since() { case "$1" in *[!0-9]*) echo "$1" ;; *) echo $(($1 - t0)) ;; esac; }
wait_a=found wait_b=found
case "$1" in *[!0-9]*) wait_a=$1 ;; esac
case "$2" in *[!0-9]*) wait_b=$2 ;; esac
result share-a-unpause-status="$unpause_a" share-b-unpause-status="$unpause_b" \
    share-unpause-ns=$((t1 - t0))
result share-a-wait="$wait_a" share-b-wait="$wait_b" \
    share-a-seen-ns="$(since "$1")" share-b-seen-ns="$(since "$2")"
# They power themselves off (on_poweroff=destroy).
wait_gone xenrs-share-a 10 || destroy xenrs-share-a >/dev/null
wait_gone xenrs-share-b 10 || destroy xenrs-share-b >/dev/null
result share-residue="$(residue "$share_a_id" "$share_b_id")"

step "h: CPU share: one spinning domU capped at $CAP_PERCENT%"
status=$(save xenrs-capped-create timeout 60 xl create -p /tmp/xenrs-capped.cfg)
capped_id=$(domid_of xenrs-capped)
cap_status=$(save xenrs-capped-cap xl sched-credit2 -d xenrs-capped -c "$CAP_PERCENT")
save xenrs-capped-sched xl sched-credit2 -d xenrs-capped >/dev/null
cap=$(awk '$1 == "xenrs-capped" { print $4 }' "$OUT/xenrs-capped-sched")
t0=$(ns)
unpause=$(save xenrs-capped-unpause xl unpause xenrs-capped)
seen=$(wait_all '^cpu-share:' "$spin_limit" xenrs-capped)
wait=found
case "$seen" in *[!0-9]*) wait=$seen ;; esac
result capped-create-status="$status" capped-cap-status="$cap_status" capped-cap="${cap:-none}"
result capped-unpause-status="$unpause" capped-wait="$wait" capped-seen-ns="$(since "$seen")"
wait_gone xenrs-capped 10 || destroy xenrs-capped >/dev/null
result capped-residue="$(residue "$capped_id")"

# ---- i: the smallest memory our kernel boots in ------------------------------------
i_start=$(ns)
min_ok=none max_failed=none
for mib in $MIN_MEMORY_STEPS; do
    name=xenrs-mem$mib
    step "i: $name: memory = maxmem = $mib MiB"
    t0=$(ns)
    status=$(save "$name-create" timeout 60 xl create "/tmp/$name.cfg")
    t1=$(ns)
    id=$(domid_of "$name")
    # A failed create names the domain it tore down: check that one too.
    [ "$id" = none ] &&
        id=$(sed -n 's/.*Domain \([0-9][0-9]*\):.*/\1/p' "$OUT/$name-create" | head -n 1)
    if [ "$status" = 0 ]; then
        outcome=$(wait_ready "$name" 8)
    else
        outcome=create-failed
    fi
    t2=$(ns)
    if xl domid "$name" >/dev/null 2>&1; then
        gone=$(destroy "$name")
    else
        gone=not-running
    fi
    t3=$(ns)
    result "mem$mib-create-status=$status" "mem$mib-outcome=$outcome" \
        "mem$mib-destroy-status=$gone" "mem$mib-residue=$(residue "${id:-none}")"
    result "mem$mib-create-ns=$((t1 - t0))" "mem$mib-outcome-ns=$((t2 - t1))" \
        "mem$mib-destroy-ns=$((t3 - t2))" "mem$mib-residue-ns=$(($(ns) - t3))"
    if [ "$outcome" = ready ]; then
        min_ok=$mib
    elif [ "$max_failed" = none ]; then
        max_failed=$mib
    fi
done
result xenrs-min-memory-mib="$min_ok" xenrs-min-memory-failed-mib="$max_failed"
result cpu-share-step-ns=$((i_start - h_start)) min-memory-step-ns=$(($(ns) - i_start))

# ---- j: programs from a ramdisk ----------------------------------------------------
# ramdisk_config NAME CMDLINE: /tmp/NAME.cfg, our kernel with the
# userland initrd as `ramdisk=`; CMDLINE is the quoted xl value.
ramdisk_config() {
    cat > "/tmp/$1.cfg" <<CFG
type = "pv"
name = "$1"
kernel = "/tmp/xenrs.elf"
ramdisk = "/tmp/initrd.cpio"
cmdline = $2
memory = 32
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
CFG
}

step "j: busybox from a ramdisk as init of a domU"
if [ -f /tmp/initrd.cpio ]; then
    ramdisk_config xenrs5 \
        "'init=/bin/busybox shutdown=poweroff -- sh -c \"echo hi | cat; ls /; uname -a\"'"
    status=$(save xenrs5-create timeout 120 xl create /tmp/xenrs5.cfg)
    xenrs5_id=$(domid_of xenrs5)
    log=/var/log/xen/console/guest-xenrs5.log
    wait_count "$log" '^shutdown: ' 1 30 >/dev/null
    dump guest-xenrs5 "$log"
    result xenrs5-create-status="$status" xenrs5-residue="$(residue "$xenrs5_id")"

    # Our init and its shell on the domU's console: type into the pty
    # xenconsoled gives the console (what `xl console` would attach to).
    ramdisk_config xenrs6 '"shutdown=poweroff"'
    status=$(save xenrs6-create timeout 120 xl create /tmp/xenrs6.cfg)
    xenrs6_id=$(domid_of xenrs6)
    log=/var/log/xen/console/guest-xenrs6.log
    wait_count "$log" 'init: starting /bin/sh' 1 30 >/dev/null
    tty=$(xenstore-read "/local/domain/$xenrs6_id/console/tty" 2>/dev/null)
    if [ -n "$tty" ] && [ -e "$tty" ]; then
        printf '%s\r' "busybox sh -c 'echo typed-in-domU-\$((20+1))'" > "$tty"
        sleep 1
        printf 'busybox poweroff\r' > "$tty"
    fi
    wait_count "$log" '^shutdown: ' 1 30 >/dev/null
    sleep 0.5
    dump guest-xenrs6 "$log"
    result xenrs6-create-status="$status" xenrs6-tty="${tty:-none}" \
        xenrs6-residue="$(residue "$xenrs6_id")"
else
    result xenrs5-create-status=no-initrd
fi

# ---- the record, printed while Xen is quiet ---------------------------------------
step "done"
save xl-list-final xl list >/dev/null
save local-domain-final xenstore-list /local/domain >/dev/null
for file in "$OUT"/*; do
    name=${file##*/}
    [ "$name" = results ] || dump "$name" "$file"
done
for name in linux1 xenrs4 xenrs1 xenrs2 xenrs3 xenrs-share-a xenrs-share-b xenrs-capped; do
    dump "guest-$name.log" "$LOGS/guest-$name.log"
    # xl's own log of the domain: how and why it ended.
    dump "xl-$name.log" "/var/log/xen/xl-$name.log"
done
for mib in $MIN_MEMORY_STEPS; do
    dump "guest-xenrs-mem$mib.log" "$LOGS/guest-xenrs-mem$mib.log"
    dump "xl-xenrs-mem$mib.log" "/var/log/xen/xl-xenrs-mem$mib.log"
done
dump results "$OUT/results"
exit 0
