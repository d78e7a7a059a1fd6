#!/bin/busybox sh
# /init of the Linux PV domU that runs the userland benchmark
# (image-builder/src/linux_dom0/bench-init.sh, packed by
# image-builder/src/userland_bench.rs): the arguments after `--` on the
# kernel command line go to xenrs-bench, whose lines go to the console;
# then the exit status, and power off.
/bin/busybox mount -t proc proc /proc
echo "bench-guest: linux $(/bin/busybox uname -r) running xenrs-bench $*"
/bin/xenrs-bench "$@"
echo "bench-guest: xenrs-bench exited with status $?"
/bin/busybox poweroff -f
