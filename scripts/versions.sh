#!/usr/bin/env bash
# Builds and tests connmon against other Wireshark versions, in Debian
# chroots made with debootstrap (Debian 13 "trixie" has Wireshark 4.4,
# unstable "sid" 4.6).  Needs root, debootstrap and unshare (util-linux).
#
#   scripts/versions.sh setup SUITE...    make the chroots (in parallel) or reuse
#                                         healthy ones; install the build deps
#   scripts/versions.sh test SUITE...     per chroot: copy this checkout in, run
#                                         scripts/test.sh, dump every connmon field
#                                         (tests/versions/dump.py), build the .deb
#                                         (scripts/package.sh) and test installing
#                                         and removing it (tests/versions/test_install.py)
#   scripts/versions.sh dump SUITE...     only copy in, build and dump the fields
#   scripts/versions.sh sync SUITE...     only copy this checkout in
#   scripts/versions.sh run SUITE CMD...  run CMD as root in the chroot's copy of
#                                         the source (e.g. a single pytest)
#   scripts/versions.sh dump-host         dump the host's fields and build its .deb
#   scripts/versions.sh clean SUITE...    delete the chroots
#
# Environment:
#   CONNMON_CHROOTS        where the chroots live (default /var/tmp/connmon-chroots);
#                          SUITE is also accepted as a path to a chroot
#   CONNMON_DEBIAN_MIRROR  Debian archive (default: the host's configured one)
#   CONNMON_VERSIONS_DIR   where the per-version dumps, .debs and logs go
#                          (default build-versions/ in this checkout)
#   CONNMON_BUILD_DIR      host build dir for dump-host (default build)
#
# Mounts (proc, sysfs, devpts, /dev/shm) are made in a private mount
# namespace (unshare --mount) around every command run in a chroot, so they
# disappear with that command and never show on the host.  The chroot's
# copy of the source is /build/connmon, its build dirs /build/connmon/build-ci*.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CHROOTS=${CONNMON_CHROOTS:-/var/tmp/connmon-chroots}
OUT=${CONNMON_VERSIONS_DIR:-$REPO/build-versions}
SRC_IN=/build/connmon           # the source inside a chroot
OUT_IN=/build/out               # per-version results inside a chroot
MARK=.connmon-chroot-ready      # written once a chroot is fully set up

log() { printf '%s\n' "$*" >&2; }
die() { log "versions.sh: $*"; exit 1; }

chroot_dir() {                  # SUITE or path -> chroot directory
  case $1 in */*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CHROOTS/$1" ;; esac
}

mirror() {
  if [ -n "${CONNMON_DEBIAN_MIRROR:-}" ]; then echo "$CONNMON_DEBIAN_MIRROR"; return; fi
  # the host's archive: first URI ending in /debian (deb822 or one-line format)
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
      awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|file):.*\/debian\/?$/) { print $i; exit } }')
  echo "${m:-http://deb.debian.org/debian}"
}

mounts_under() {                # mount points at or below DIR, deepest first
  findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r
}

# ---- running inside a chroot ---------------------------------------------------

enter() {                       # (in a private mount namespace) DIR CMD...
  local d=$1; shift
  # the chroot's / a mount point of its own: `ip netns exec` (live capture
  # tests) remounts / as a slave, which fails on a plain directory
  mount --bind "$d" "$d"
  mount -t proc proc "$d/proc"
  mount -t sysfs sysfs "$d/sys"
  mkdir -p "$d/dev/pts" "$d/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$d/dev/pts"
  [ -e "$d/dev/ptmx" ] || touch "$d/dev/ptmx"
  mount --bind "$d/dev/pts/ptmx" "$d/dev/ptmx"
  mount -t tmpfs -o mode=1777 tmpfs "$d/dev/shm"
  local wd=/
  [ -d "$d$SRC_IN" ] && wd=$SRC_IN
  exec chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive ${CM_ENV:-} \
    /bin/sh -c 'cd "$0" && exec "$@"' "$wd" "$@"
}

in_chroot() {                   # DIR CMD...   (extra env: CM_ENV="A=1 B=2")
  unshare --mount --propagation private -- "$REPO/scripts/versions.sh" __enter "$@"
}

in_chroot_env() {               # "A=1 B=2" DIR CMD...
  local e=$1; shift
  CM_ENV=$e in_chroot "$@"
}

run_logged() {                  # LOG CMD...: output also to LOG
  local log=$1; shift
  "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

healthy() {                     # DIR
  [ -f "$1/$MARK" ] && [ -x "$1/usr/bin/tshark" ] && chroot "$1" /bin/true 2>/dev/null
}

remove_dir() {                  # DIR: refuses while anything is mounted below it
  local d=$1
  [ -e "$d" ] || return 0
  [ -z "$(mounts_under "$d")" ] || die "$d has mounts below it; not removing"
  rm -rf --one-file-system "$d"
}

sync_src() {                    # DIR: the checkout's files (tracked + new), build dirs kept
  # Only new or changed files are written, with a new mtime: make then
  # rebuilds exactly what changed (keeping the checkout's mtimes would not
  # do: a file edited here after the last copy but before the last build
  # in the chroot would look older than its object file).
  local d=$1 dst=$1$SRC_IN inc=$1/build/.incoming f
  rm -rf "$inc"; mkdir -p "$inc" "$dst"
  git -C "$REPO" ls-files -z --cached --others --exclude-standard |
    (cd "$REPO" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$REPO" --null -T - -cf - | tar -C "$inc" -xf - || return 1
  (cd "$dst" && find . -path './build-ci*' -prune -o ! -type d -print) |
    while IFS= read -r f; do [ -e "$inc/$f" ] || [ -L "$inc/$f" ] || rm -f "$dst/$f"; done
  (cd "$inc" && find . ! -type d -print) | while IFS= read -r f; do
    if ! cmp -s "$inc/$f" "$dst/$f"; then
      mkdir -p "$(dirname "$dst/$f")" && rm -f "$dst/$f" && cp -P --preserve=mode "$inc/$f" "$dst/$f"
    elif [ ! -L "$inc/$f" ] && [ "$(stat -c %a "$inc/$f")" != "$(stat -c %a "$dst/$f")" ]; then
      chmod --reference="$inc/$f" "$dst/$f"
    fi
  done
  rm -rf "$inc"
}

setup_one() {                   # SUITE_OR_DIR (output: a log)
  local d suite
  d=$(chroot_dir "$1"); suite=$(basename "$d")
  if healthy "$d"; then
    echo "reusing $d"
  else
    local m; m=$(mirror)
    echo "debootstrap --variant=minbase $suite $d $m"
    remove_dir "$d.new" || return 1
    remove_dir "$d" || return 1
    mkdir -p "$(dirname "$d")"
    unshare --mount --propagation private -- \
      debootstrap --variant=minbase "$suite" "$d.new" "$m" || return 1
    # unstable's Release is often past its Valid-Until on mirrors and snapshots
    echo 'Acquire::Check-Valid-Until "false";' > "$d.new/etc/apt/apt.conf.d/99connmon"
    echo 'APT::Install-Recommends "false";' >> "$d.new/etc/apt/apt.conf.d/99connmon"
    printf '%s\n' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*' \
      'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      > "$d.new/etc/dpkg/dpkg.cfg.d/99connmon"
    mv "$d.new" "$d"
  fi
  sync_src "$d" || return 1
  # the same dependency list as on the host (also proves scripts/install-deps.sh there)
  in_chroot "$d" scripts/install-deps.sh || return 1
  touch "$d/$MARK"
  in_chroot "$d" tshark --version | head -1
}

cmd_setup() {
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  } || die "cannot install debootstrap"
  mkdir -p "$OUT"
  local s pids=() names=() rc=0 t0=$SECONDS
  for s in "$@"; do
    setup_one "$s" > "$OUT/setup-$(basename "$s").log" 2>&1 &
    pids+=($!); names+=("$s")
  done
  local i
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      log "chroot ${names[$i]}: $(tail -n 1 "$OUT/setup-$(basename "${names[$i]}").log")"
    else
      rc=1
      log "chroot ${names[$i]}: setup FAILED; end of $OUT/setup-$(basename "${names[$i]}").log:"
      tail -n 30 "$OUT/setup-$(basename "${names[$i]}").log" >&2
    fi
  done
  log "chroot setup: $((SECONDS - t0)) s"
  return $rc
}

# ---- the per-version test --------------------------------------------------------

step() {                        # NAME CMD...: runs, times, records the outcome
  local name=$1 t0=$SECONDS rc; shift
  printf '\n--- %s\n' "$name"
  "$@"; rc=$?
  printf -- '--- %s: %s (%d s)\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED, exit $rc")" \
    $((SECONDS - t0))
  STEPS+=("$name: $([ $rc -eq 0 ] && echo ok || echo FAILED) ($((SECONDS - t0)) s)")
  [ $rc -eq 0 ] || FAILED=1
  return $rc
}

test_one() {                    # SUITE_OR_DIR
  local d suite ver log
  d=$(chroot_dir "$1"); suite=$(basename "$d")
  healthy "$d" || { log "chroot $d is not set up (scripts/versions.sh setup $suite)"; return 1; }
  ver=$(chroot "$d" dpkg-query -W -f '${Version}' tshark 2>/dev/null)
  printf '\n==================== Wireshark %s (Debian %s chroot %s) ====================\n' \
    "${ver%%-*}" "$suite" "$d"
  STEPS=(); FAILED=0
  mkdir -p "$OUT"
  sync_src "$d"
  rm -rf "$d$OUT_IN"; mkdir -p "$d$OUT_IN"
  # a package left installed by an interrupted run would shadow the test builds
  in_chroot "$d" sh -c 'dpkg -s connmon >/dev/null 2>&1 && dpkg --purge connmon || true'
  log="$OUT/test-$(echo "$ver" | cut -d. -f1,2)-$suite.log"
  step "unit + integration tests (scripts/test.sh)" \
    run_logged "$log" in_chroot_env "CONNMON_BUILD_DIR=build-ci" "$d" scripts/test.sh
  step "field dump (tests/versions/dump.py)" \
    in_chroot "$d" python3 tests/versions/dump.py --build build-ci --out "$OUT_IN"
  step "package (scripts/package.sh)" \
    in_chroot "$d" scripts/package.sh --out "$OUT_IN"
  step "package install/remove (tests/versions/test_install.py)" \
    in_chroot_env "CONNMON_PACKAGE_INSTALL=1 CONNMON_DEB_DIR=$OUT_IN" "$d" python3 -m pytest -q -p no:cacheprovider tests/versions/test_install.py
  cp -a "$d$OUT_IN"/. "$OUT"/
  printf '\n=== Wireshark %s (%s) summary:\n' "${ver%%-*}" "$suite"
  printf '    %s\n' "${STEPS[@]}"
  printf '    pytest: %s\n' "$(grep -E '^=* ?[0-9]+ (passed|failed|error)|^=+ .*(passed|failed|error).* =+$' "$log" | tail -n 1)"
  return $FAILED
}

cmd_test() {
  local s rc=0
  for s in "$@"; do test_one "$s" || rc=1; done
  return $rc
}

cmd_dump() {                    # quick: copy in, build, dump (no tests, no package)
  local s d rc=0
  mkdir -p "$OUT"
  for s in "$@"; do
    d=$(chroot_dir "$s")
    healthy "$d" || { log "chroot $d is not set up"; rc=1; continue; }
    sync_src "$d" && mkdir -p "$d$OUT_IN" &&
      in_chroot_env "CONNMON_BUILD_DIR=build-ci" "$d" scripts/build.sh >/dev/null &&
      in_chroot "$d" python3 tests/versions/dump.py --build build-ci --out "$OUT_IN" &&
      cp -a "$d$OUT_IN"/dump-*.json "$OUT"/ || rc=1
  done
  return $rc
}

cmd_dump_host() {               # the host's own Wireshark, from the host's build
  local b=${CONNMON_BUILD_DIR:-build} rc=0
  mkdir -p "$OUT"
  /usr/bin/python3 tests/versions/dump.py --build "$b" --out "$OUT" || rc=1
  scripts/package.sh --out "$OUT" || rc=1
  return $rc
}

[ $# -ge 1 ] || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
cmd=$1; shift
case $cmd in
  __enter) enter "$@" ;;
  setup|test|dump|sync|clean|run) [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)" ;;&
  setup) [ $# -ge 1 ] || die "which suites?"; cmd_setup "$@" ;;
  test) [ $# -ge 1 ] || die "which suites?"; cmd_test "$@" ;;
  dump) [ $# -ge 1 ] || die "which suites?"; cmd_dump "$@" ;;
  sync) for s in "$@"; do sync_src "$(chroot_dir "$s")"; done ;;
  run) [ $# -ge 2 ] || die "usage: run SUITE CMD..."
       d=$(chroot_dir "$1"); shift; healthy "$d" || die "$d is not set up"; in_chroot "$d" "$@" ;;
  dump-host) cmd_dump_host ;;
  clean) for s in "$@"; do remove_dir "$(chroot_dir "$s")"; remove_dir "$(chroot_dir "$s").new"; done ;;
  *) die "unknown command $cmd (setup, test, dump, sync, run, dump-host, clean)" ;;
esac
