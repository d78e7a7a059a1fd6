#!/bin/sh
# /init of the Linux dom0 test harness (image-builder/src/linux_dom0/init.sh).
#
# Brings up the Xen toolstack's daemons on a bare initramfs, prints
# DOM0-READY, runs the test's /test/run.sh (files of the test are in /test,
# copied to /tmp), prints DOM0-TEST-EXIT <status> and reboots, which makes
# Xen reboot the machine and `qemu -no-reboot` exit. Everything goes to
# the console (hvc0, which Xen copies to the serial port).

export PATH=/usr/lib/xen-4.17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C
say() { echo "dom0-init: $*"; }
finish() {
    echo "DOM0-TEST-EXIT $1"
    sync
    busybox reboot -f
    # Not reached unless reboot failed; this makes Linux panic, which Xen
    # reports as a crash: the run ends either way.
    exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# A bare devtmpfs lacks these; Xen's hotplug scripts (block, locking.sh)
# loop on `stat -L /dev/stdin` without them.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
for dir in /tmp /run /var/run /var/log /var/lib/xen; do
    # /var/run is a link to /run on Debian: mount once.
    [ -L "$dir" ] && continue
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
chmod 1777 /tmp
hostname xenrs-dom0
# Kernel messages below warnings would interleave with the test's output.
echo 4 > /proc/sys/kernel/printk
say "kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"

modprobe -a @MODULES@ || say "modprobe failed: $?"
mount -t xenfs xenfs /proc/xen || { say "cannot mount xenfs"; finish 125; }
mkdir -p /var/run/xen /var/run/xenstored /var/lib/xenstored /var/log/xen/console \
    /var/lib/xen/dump
xenstored --pid-file=/var/run/xen/xenstored.pid || { say "xenstored failed"; finish 125; }
tries=0
until xenstore-read -s / >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -gt 300 ] && { say "xenstored did not come up"; finish 125; }
    sleep 0.1
done
xen-init-dom0 || { say "xen-init-dom0 failed"; finish 125; }
xenconsoled --pid-file=/var/run/xen/xenconsoled.pid --log=guest \
    --log-dir=/var/log/xen/console || { say "xenconsoled failed"; finish 125; }
# The kernel seeds its random generator only once something blocks on it;
# until then every `xl create` spends ~3 s in libuuid's getrandom retries
# (125 ms sleeps). A real host gets there within seconds of boot; one
# blocking read does it here, so toolstack timings measure the toolstack.
dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null
echo "DOM0-READY"

# Copy the test's files to tmpfs (libxl maps kernels and ramdisks).
if [ -d /test ]; then
    cp -a /test/. /tmp/
fi
cd /tmp || finish 125
if [ -f /test/run.sh ]; then
    sh /test/run.sh </dev/null 2>&1
    status=$?
else
    say "no /test/run.sh"
    status=126
fi
finish "$status"
