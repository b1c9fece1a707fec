#!/usr/bin/env bash
# Prepares a Debian 12 machine (run as root) for tswarm's end-to-end lab, idempotently:
#   0. installs the native build tools `npm ci` needs (python3, make, g++: node-gyp builds the
#      eBPF addon of packages/network), only those missing; `--build-tools` stops after this
#      step (.ci/run runs it before npm ci);
#   1. installs the Debian packages the lab and benchmarks use, only those missing;
#   2. starts dockerd when nothing answers on /var/run/docker.sock (there is no systemd here);
#   3. builds the local image tswarm/busybox:latest with `docker import` (no registry is reachable).
# Prints one line per thing it did. When everything is present it only runs a few cheap
# checks (dpkg-query, `docker info`, `docker image inspect`) and finishes well under 2 s.
set -euo pipefail

log() { echo "host-setup: $*"; }
die() { echo "host-setup: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (the lab creates network namespaces and starts dockerd)"

START_NS=$(date +%s%N)
DID=0

# --- 0. native build tools ----------------------------------------------------------------------
# Checked by command, not by package: python3 may come from elsewhere (pyenv) and node-gyp
# takes any python3 >= 3.6 on PATH. Node's own headers come with the machine's Node.js
# (npm's nodedir), so node-gyp downloads nothing.
build_missing=()
for t in python3 make g++; do command -v "$t" >/dev/null || build_missing+=("$t"); done
if [ ${#build_missing[@]} -gt 0 ]; then
  log "apt-get install ${build_missing[*]} (native build tools for npm ci)"
  apt-get update -qq >/dev/null || die "apt-get update failed; check network access to the Debian mirror"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "${build_missing[@]}" >/var/log/tswarm-host-setup-build.log 2>&1 \
    || { tail -n 20 /var/log/tswarm-host-setup-build.log >&2; die "apt-get install ${build_missing[*]} failed"; }
  DID=1
fi
if [ "${1:-}" = "--build-tools" ]; then
  log "build tools in place"
  exit 0
fi

# --- 1. packages ------------------------------------------------------------------------------
# iputils-ping: the e2e tests and the demo ping between lab hosts (a slim image may lack it).
# protobuf-compiler is not needed: proto/ is generated with buf (an npm devDependency).
# dnsperf is optional (DNS benchmarks only); it is in Debian 12 main, but other releases may lack it.
REQUIRED=(docker.io busybox-static iproute2 iputils-ping nftables iptables iperf3 dnsutils etcd-server)
OPTIONAL=(dnsperf)

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
# A package is installable when apt knows a candidate version for it.
# (Output captured first: with pipefail, `grep -q` closing the pipe early would fail the check.)
available() { local out; out=$(apt-cache policy "$1" 2>/dev/null); [[ "$out" =~ Candidate:\ [^\(] ]]; }

missing=()
for p in "${REQUIRED[@]}"; do installed "$p" || missing+=("$p"); done
missing_opt=()
for p in "${OPTIONAL[@]}"; do installed "$p" || missing_opt+=("$p"); done

if [ ${#missing[@]} -gt 0 ] || [ ${#missing_opt[@]} -gt 0 ]; then
  updated=0
  # Refresh the package lists once, and only when something required is missing (or when the
  # lists are empty, as on a fresh image, so optional packages can be looked up at all).
  if [ ${#missing[@]} -gt 0 ] || ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    log "apt-get update (missing: ${missing[*]:-} ${missing_opt[*]:-})"
    apt-get update -qq >/dev/null || die "apt-get update failed; check network access to the Debian mirror"
    updated=1
  fi
  to_install=("${missing[@]}")
  for p in "${missing_opt[@]}"; do
    if available "$p"; then to_install+=("$p")
    else log "skipping $p: not available from the configured apt sources"; fi
  done
  if [ ${#to_install[@]} -gt 0 ]; then
    [ "$updated" = 1 ] || { apt-get update -qq >/dev/null || die "apt-get update failed"; }
    # Keep package maintainer scripts from starting services (etcd, docker) on their own:
    # we start dockerd ourselves below, and a stray etcd on :2379 would disturb the benchmarks.
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      policy_added=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    log "apt-get install ${to_install[*]}"
    # apt and maintainer scripts are chatty (debconf, needrestart): keep their output in a file
    # and show its tail only when the install fails.
    apt_log=/var/log/tswarm-host-setup-apt.log
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1 \
      apt-get install -y -q -o Dpkg::Use-Pty=0 "${to_install[@]}" >"$apt_log" 2>&1 \
      || { tail -n 20 "$apt_log" >&2; die "apt-get install ${to_install[*]} failed (full log: $apt_log)"; }
    [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
    DID=1
  fi
fi

# --- 2. dockerd -------------------------------------------------------------------------------
DOCKER_PID_FILE=/var/run/tswarm-dockerd.pid
DOCKER_LOG=/var/log/tswarm-dockerd.log
docker_up() { timeout 10 docker info >/dev/null 2>&1; }

if ! docker_up; then
  # dockerd needs the cgroup v1 hierarchies; a fresh machine may not have them mounted yet.
  if ! grep -q ' /sys/fs/cgroup/' /proc/mounts && command -v cgroupfs-mount >/dev/null; then
    cgroupfs-mount && log "mounted cgroup hierarchies (cgroupfs-mount)"
  fi
  # A pid file left by a dead dockerd would make the new one refuse to start.
  if [ -f "$DOCKER_PID_FILE" ]; then
    old=$(cat "$DOCKER_PID_FILE" 2>/dev/null || true)
    if [ -n "$old" ] && grep -qa dockerd "/proc/$old/cmdline" 2>/dev/null; then
      die "dockerd (pid $old) is running but does not answer; see $DOCKER_LOG"
    fi
    rm -f "$DOCKER_PID_FILE"
  fi
  # Note: a dockerd in the root namespace loads br_netfilter and sets the root FORWARD policy to
  # DROP. The lab keeps its bridge in its own namespace (e2e/src/lab.ts), so that does not matter.
  nohup dockerd --pidfile "$DOCKER_PID_FILE" >>"$DOCKER_LOG" 2>&1 </dev/null &
  disown || true
  for _ in $(seq 1 60); do
    docker_up && break
    sleep 0.5
  done
  docker_up || die "dockerd did not answer within 30 s; see the tail of $DOCKER_LOG"
  log "started dockerd (pid $(cat "$DOCKER_PID_FILE" 2>/dev/null || echo '?'), log $DOCKER_LOG)"
  DID=1
fi

# --- 3. the busybox image ---------------------------------------------------------------------
IMAGE=tswarm/busybox:latest
# Bump IMAGE_REV when the root filesystem below changes, so existing machines rebuild it.
IMAGE_REV=1
have_rev=$(docker image inspect -f '{{index .Config.Labels "com.tswarm.image-rev"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have_rev" != "$IMAGE_REV" ]; then
  BUSYBOX=/bin/busybox
  [ -x "$BUSYBOX" ] || die "$BUSYBOX is missing; install busybox-static"
  # The image must not depend on host libraries: check that busybox is the static build.
  if command -v ldd >/dev/null && ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked; install busybox-static"
  fi
  root=$(mktemp -d /tmp/tswarm-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/www,run}
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  # Every applet this busybox offers (sh, httpd, wget, nc, nslookup, ping, sleep, ip, hostname,
  # awk, sed, ...) as a symlink in /bin; scripts with `#!/usr/bin/env` find env too.
  for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
  done
  ln -s ../../bin/busybox "$root/usr/bin/env"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"
  echo 'tswarm busybox image' > "$root/var/www/index.html"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
    --change 'CMD ["sh"]' \
    --change "LABEL com.tswarm.image-rev=$IMAGE_REV" \
    - "$IMAGE" >/dev/null || die "docker import of $IMAGE failed"
  rm -rf "$root"
  log "built image $IMAGE (busybox $("$BUSYBOX" 2>&1 | head -1 | awk '{print $2}'), $("$BUSYBOX" --list | wc -l) applets)"
  DID=1
fi

ms=$(( ($(date +%s%N) - START_NS) / 1000000 ))
if [ "$DID" = 0 ]; then log "everything already in place (${ms} ms)"; else log "done (${ms} ms)"; fi
