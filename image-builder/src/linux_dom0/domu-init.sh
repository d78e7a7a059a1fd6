#!/bin/busybox sh
# /init of the Linux PV domU used as the benchmark's reference guest
# (image-builder/src/linux_dom0/domu-init.sh): say how long the boot took,
# then power off at once.
/bin/busybox mount -t proc proc /proc
echo "ready: linux uptime=$(/bin/busybox cat /proc/uptime)"
/bin/busybox poweroff -f
