#!/usr/bin/env bash
# Regenerates the GUI screenshots docs/gui-*.png: the real Wireshark Qt GUI
# with the freshly built connmon plugin, on a bundled capture, in a virtual X
# display (Xvfb + openbox), driven with xdotool, captured with ImageMagick.
#
#   sudo tools/screenshots/make-screenshots.sh            # all four
#   sudo tools/screenshots/make-screenshots.sh iograph    # only some: details filter iograph stats
#
# Run as root (it installs packages). Wireshark itself runs as an unprivileged
# user (nobody by default): run as root it would ignore WIRESHARK_PLUGIN_DIR.
# Idempotent: every run starts from a fresh, preset Wireshark profile in a
# temporary directory and overwrites the PNGs. Bounded: the whole run is
# killed after MAX_SECONDS. Environment knobs: see the defaults below.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}          # cmake build tree holding plugins/
OUT_DIR=${OUT_DIR:-$ROOT/docs}
CAPTURE=${CAPTURE:-$ROOT/pcaps/real/bottleneck.pcap}
FRAME=${FRAME:-310}                          # packet with tsrtd and seqrtd
FILTER=${FILTER:-connmon.tsrtd > 0.03}
FILTER_FRAME=${FILTER_FRAME:-}               # packet selected there; default: first match
SCREEN_W=${SCREEN_W:-1600}
SCREEN_H=${SCREEN_H:-1000}
RUN_AS=${RUN_AS:-65534:65534}                # uid:gid Wireshark runs as
SKIP_INSTALL=${SKIP_INSTALL:-0}              # 1: don't apt-get anything
SKIP_BUILD=${SKIP_BUILD:-0}                  # 1: use the plugin already in BUILD_DIR
MAX_SECONDS=${MAX_SECONDS:-900}
KEEP_STAGE=${KEEP_STAGE:-0}                  # 1: keep the temporary directory (debugging)
SHOTS=("$@")
[ ${#SHOTS[@]} -gt 0 ] || SHOTS=(details filter iograph stats)

log() { printf '[screenshots] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (installs packages, then drops to ${RUN_AS} for Wireshark)"
[ -r "$CAPTURE" ] || die "capture not found: $CAPTURE"
for s in "${SHOTS[@]}"; do
  case $s in details|filter|iograph|stats) ;; *) die "unknown screenshot '$s' (details filter iograph stats)";; esac
done

# ---------------------------------------------------------------- packages
GUI_PKGS=(wireshark xvfb xdotool imagemagick x11-utils fonts-dejavu-core pngquant)
WM_PKGS=(openbox)                            # installed without its recommends
missing() { local p; for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done; }
if [ "$SKIP_INSTALL" != 1 ]; then
  "$ROOT/scripts/install-deps.sh"
  mapfile -t need < <(missing "${GUI_PKGS[@]}")
  mapfile -t need_wm < <(missing "${WM_PKGS[@]}")
  if [ ${#need[@]} -gt 0 ] || [ ${#need_wm[@]} -gt 0 ]; then
    log "installing: ${need[*]} ${need_wm[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # no setuid dumpcap question, no capture group: we only read files
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt_get() { apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"; }
    apt_get update >/dev/null
    [ ${#need[@]} -eq 0 ] || apt_get install "${need[@]}" >/dev/null
    [ ${#need_wm[@]} -eq 0 ] || apt_get install --no-install-recommends "${need_wm[@]}" >/dev/null
  fi
fi
for t in wireshark tshark Xvfb xdotool import convert xdpyinfo xwininfo openbox setpriv; do
  command -v "$t" >/dev/null || die "$t not installed (run without SKIP_INSTALL=1)"
done

# ---------------------------------------------------------------- build
if [ "$SKIP_BUILD" != 1 ]; then
  log "building the plugin in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j2 >/dev/null
fi
PLUGIN_SO=$(find "$BUILD_DIR/plugins" -name connmon.so 2>/dev/null | head -1)
[ -n "$PLUGIN_SO" ] || die "no connmon.so under $BUILD_DIR/plugins (build first)"

# ---------------------------------------------------------------- stage
# Everything Wireshark reads lives in a fresh world-readable temp dir: a
# checkout under /root is not readable by nobody.
STAGE=$(mktemp -d /tmp/connmon-screenshots.XXXXXX)
chmod 755 "$STAGE"
HOME_DIR=$STAGE/home
CONF=$HOME_DIR/.config/wireshark
mkdir -p "$CONF" "$STAGE/run"
cp -r "$BUILD_DIR/plugins" "$STAGE/plugins"
CAP=$STAGE/$(basename "$CAPTURE")
cp "$CAPTURE" "$CAP"
TITLE=$(basename "$CAPTURE")
chmod -R a+rX "$STAGE"
chown -R "$RUN_AS" "$HOME_DIR" "$STAGE/run"
chmod 700 "$STAGE/run"

XVFB_PID="" WM_PID="" WS_PID="" WATCHDOG_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in $WS_PID $WM_PID $XVFB_PID $WATCHDOG_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP_STAGE" = 1 ]; then log "kept $STAGE"; else rm -rf "$STAGE"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'log "interrupted (time limit ${MAX_SECONDS}s?)"; exit 124' TERM
# watchdog: its sleep must not hold our stdout open, and dies with it
( exec >/dev/null 2>&1; sleep "$MAX_SECONDS" & s=$!; trap 'kill $s; exit 0' TERM
  wait $s && kill -TERM $$ ) &
WATCHDOG_PID=$!

# ---------------------------------------------------------------- X server
n=99
while [ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ]; do n=$((n + 1)); done
export DISPLAY=:$n
Xvfb "$DISPLAY" -screen 0 "${SCREEN_W}x${SCREEN_H}x24" -nolisten tcp >"$STAGE/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.2; done
xdpyinfo >/dev/null 2>&1 || die "Xvfb did not start: $(cat "$STAGE/xvfb.log")"
# a window manager: title bars, focus, activation of windows
openbox >"$STAGE/openbox.log" 2>&1 &
WM_PID=$!
sleep 1
log "X display $DISPLAY (${SCREEN_W}x${SCREEN_H})"

# ---------------------------------------------------------------- profile
# A preset profile: maximised main window, no bytes pane, connmon columns,
# and the I/O graphs. Rewritten before every Wireshark start so that what one
# session saves on exit does not leak into the next.
write_profile() {
  local upper_pane=$1
  cat >"$CONF/preferences" <<'EOF'
# connmon screenshots
gui.column.format:
	"No.", "%m",
	"Time", "%t",
	"Source", "%s",
	"Destination", "%d",
	"Protocol", "%p",
	"Length", "%L",
	"TS RTT (connmon.tsrtd)", "%Cus:connmon.tsrtd:0:R",
	"Seq RTT (connmon.seqrtd)", "%Cus:connmon.seqrtd:0:R",
	"Info", "%i"
gui.ask_unsaved: FALSE
gui.update.enabled: FALSE
gui.recent_files_count.max: 0
EOF
  cat >"$CONF/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $SCREEN_W
gui.geometry_main_height: $SCREEN_H
gui.geometry_main_maximized: TRUE
gui.last_used_profile: Default
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
gui.geom.IOGraphDialog.x: 40
gui.geom.IOGraphDialog.y: 30
gui.geom.IOGraphDialog.width: 1300
gui.geom.IOGraphDialog.height: 860
gui.geom.IOGraphDialog.maximized: FALSE
gui.geom.connmon.x: 40
gui.geom.connmon.y: 30
gui.geom.connmon.width: 1080
gui.geom.connmon.height: 430
gui.geom.connmon.maximized: FALSE
EOF
  cat >"$CONF/recent" <<EOF
gui.toolbar_main_show: TRUE
gui.filter_toolbar_show: TRUE
gui.wireless_toolbar_show: FALSE
gui.packet_list_show: TRUE
gui.tree_view_show: TRUE
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.statusbar_show: TRUE
gui.packet_list_colorize: TRUE
gui.time_format: RELATIVE
gui.time_precision: AUTO
gui.zoom_level: 0
gui.geometry_main_upper_pane: $upper_pane
gui.geometry_main_lower_pane: 300
EOF
  # (dialog geometries are keyed by name; the stats tree's is its -z name)
  # I/O graphs UAT (ui/qt/io_graph_dialog.cpp): enabled, name, display
  # filter, color, style, Y axis, Y field, SMA period, Y axis factor.
  # In bottleneck.pcap a 3 Mbit/s bottleneck queue sits between the capture
  # point and 10.201.0.1 (the downloader): its ACKs carry the growing round
  # trip CP -> 10.201.0.1 -> CP, 10.201.0.2's packets the short one.
  cat >"$CONF/io_graphs" <<'EOF'
# This file is automatically generated, DO NOT MODIFY.
"Enabled","AVG(connmon.tsrtd) in s, from 10.201.0.1 (through the queue)","ip.src == 10.201.0.1","#1F77B4","Line","AVG(Y Field)","connmon.tsrtd","None","1"
"Enabled","MAX(connmon.tsrtd) in s, from 10.201.0.1 (through the queue)","ip.src == 10.201.0.1","#D62728","Dot","MAX(Y Field)","connmon.tsrtd","None","1"
"Enabled","AVG(connmon.tsrtd) in s, from 10.201.0.2","ip.src == 10.201.0.2","#2CA02C","Line","AVG(Y Field)","connmon.tsrtd","None","1"
EOF
  chown -R "$RUN_AS" "$CONF"
}

# ---------------------------------------------------------------- helpers
# Starts Wireshark on the staged capture as RUN_AS; waits for its main window.
MAIN_WIN=""
start_wireshark() {
  local uid=${RUN_AS%%:*} gid=${RUN_AS##*:}
  ( cd "$STAGE" && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
      env -i DISPLAY="$DISPLAY" HOME="$HOME_DIR" PATH=/usr/bin:/bin \
      XDG_RUNTIME_DIR="$STAGE/run" WIRESHARK_PLUGIN_DIR="$STAGE/plugins" LANG=C.UTF-8 \
      wireshark -r "$CAP" "$@" ) >>"$STAGE/wireshark.log" 2>&1 &
  WS_PID=$!
  MAIN_WIN=$(wait_window "$MAIN_RE") || die "Wireshark main window did not appear: $(tail -5 "$STAGE/wireshark.log")"
  sleep 3   # let the file load and the panes settle
  xdotool windowactivate --sync "$MAIN_WIN"
}
stop_wireshark() {
  [ -n "$WS_PID" ] || return 0
  kill "$WS_PID" 2>/dev/null || true
  wait "$WS_PID" 2>/dev/null || true
  WS_PID=""
  sleep 0.5
}
# Prints the id of a visible window whose name matches the regex $1.
wait_window() {
  timeout 60 xdotool search --sync --onlyvisible --name "$1" 2>/dev/null | head -1
}
# absolute x y width height of a (reparented) client window
win_geometry() {
  xwininfo -id "$1" | awk '/Absolute upper-left X/{x=$NF} /Absolute upper-left Y/{y=$NF}
    /^ *Width:/{w=$NF} /^ *Height:/{h=$NF} END{print x, y, w, h}'
}
key() { xdotool key --clearmodifiers --delay 120 "$@"; sleep 0.4; }
# Fails when a window other than the expected ones ($@: name regexes) is
# visible: an error, warning or Lua dialog would cover or spoil the shot.
check_windows() {
  local id name re ok
  for id in $(xdotool search --onlyvisible --name '.' 2>/dev/null || true); do
    name=$(xdotool getwindowname "$id" 2>/dev/null || true)
    ok=0
    for re in "$@"; do [[ $name =~ $re ]] && ok=1; done
    [ $ok = 1 ] || die "unexpected window '$name' is open"
  done
}
# shrink: strip metadata, quantise to a palette (text stays sharp)
save_png() {
  local src=$1 dst=$2
  if command -v pngquant >/dev/null; then
    pngquant --force --speed 1 --quality 60-95 --output "$dst" -- "$src" \
      || convert "$src" -strip -colors 256 "PNG8:$dst"
  else
    convert "$src" -strip -colors 256 "PNG8:$dst"
  fi
  convert "$dst" -strip "$dst"
  log "wrote $dst ($(($(stat -c %s "$dst") / 1024)) KB)"
}
MAIN_RE="^${TITLE//./\\.}\$"
shot_root() {
  check_windows "$MAIN_RE"
  import -window root "$STAGE/raw.png"; save_png "$STAGE/raw.png" "$OUT_DIR/$1"
}
shot_window() {   # window id, file, regex of the dialog's name
  check_windows "$MAIN_RE" "$3"
  import -frame -window "$1" "$STAGE/raw.png"; save_png "$STAGE/raw.png" "$OUT_DIR/$2"
}

# Details pane: focus it, collapse everything, select the last top-level item
# (connmon is a post-dissector, so its subtree comes last), expand it and
# select its first field so the status bar shows the field name.
expand_connmon() {
  local y=$((SCREEN_H - 60))
  xdotool mousemove --sync $((SCREEN_W / 2)) $y click 1
  sleep 0.3
  # a fresh profile starts with everything collapsed; the first key only
  # makes an item current (the first one)
  key Home End
  key Right Down
  xdotool mousemove --sync $((SCREEN_W - 5)) $((SCREEN_H / 2))
}
tshark_as_user() {
  setpriv --reuid="${RUN_AS%%:*}" --regid="${RUN_AS##*:}" --clear-groups \
    env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin WIRESHARK_PLUGIN_DIR="$STAGE/plugins" \
    tshark "$@"
}
# The frame shown $2 rows below frame $1 in the packet list with display
# filter $3 (empty: none), or $1 itself.
frame_below() {
  local f
  f=$(tshark_as_user -r "$CAP" ${3:+-Y "$3"} -T fields -e frame.number 2>/dev/null |
      awk -v f="$1" -v n="$2" '$1 == f {c = 1} c && c++ == n + 1 {print}')
  echo "${f:-$1}"
}
# Go to a packet and leave rows after it visible: Wireshark is started on a
# packet further down (-g), then Go → Go to Packet (Ctrl+G) goes back up
# without scrolling.
go_to_frame() {
  key ctrl+g
  xdotool type --delay 80 "$1"
  key Return
}

mkdir -p "$OUT_DIR"

# ---------------------------------------------------------------- 1. details
shot_details() {
  log "gui-details.png: frame $FRAME, connmon subtree expanded"
  write_profile 560
  start_wireshark -g "$(frame_below "$FRAME" 12 "")"
  go_to_frame "$FRAME"
  expand_connmon
  sleep 1
  shot_root gui-details.png
  stop_wireshark
}

# ---------------------------------------------------------------- 2. filter
shot_filter() {
  log "gui-filter.png: display filter '$FILTER'"
  write_profile 560
  local f=$FILTER_FRAME
  [ -n "$f" ] || f=$(tshark_as_user -r "$CAP" -Y "$FILTER" -T fields -e frame.number 2>/dev/null | awk 'NR == 1')
  [ -n "$f" ] || die "no packet matches '$FILTER'"
  start_wireshark -Y "$FILTER" -g "$f"
  expand_connmon
  sleep 1
  shot_root gui-filter.png
  stop_wireshark
}

# ---------------------------------------------------------------- 3. I/O graph
shot_iograph() {
  log "gui-iograph.png: Statistics → I/O Graphs, AVG/MAX(connmon.tsrtd)"
  write_profile 560
  start_wireshark
  key alt+s i                                  # Statistics → I/O Graphs
  local w
  w=$(wait_window "I/O Graphs") || die "I/O Graphs dialog did not open"
  xdotool windowactivate --sync "$w"
  sleep 2
  # Interval 100 ms (the combo box has no preference; it starts at 1 s):
  # click it (it sits IOG_INTERVAL_DX px right of the dialog's left edge and
  # IOG_INTERVAL_DY px above its bottom at the preset dialog size), then
  # 1 sec -> 500 ms -> 200 ms -> 100 ms.
  local X Y W H
  read -r X Y W H < <(win_geometry "$w")
  xdotool mousemove --sync $((X + ${IOG_INTERVAL_DX:-546})) $((Y + H - ${IOG_INTERVAL_DY:-55})) click 1
  sleep 0.8
  key Up Up Up Return
  sleep 2
  # Y axis: zoom out three steps and pan so that 0 is at the bottom and the
  # legend (top right) stays clear of the curves. A click on the plot's
  # title gives the plot the keyboard focus.
  xdotool mousemove --sync $((X + 300)) $((Y + 20)) click 1
  sleep 0.5
  xdotool key --delay 150 Y Y Y
  xdotool key --delay 80 Up Up Up Up Up Up Up
  # hover over the curve: the hint line shows packet, time and value
  xdotool mousemove --sync $((X + W * 40 / 100)) $((Y + H / 3))
  sleep 0.5
  xdotool mousemove --sync $((X + W * 45 / 100)) $((Y + H / 3))
  sleep 2
  shot_window "$w" gui-iograph.png "I/O Graphs"
  stop_wireshark
}

# ---------------------------------------------------------------- 4. stats tree
shot_stats() {
  log "gui-stats.png: Statistics → connmon (stats tree connmon,tree)"
  local zhelp
  zhelp=$(tshark_as_user -z help 2>&1 || true)
  if ! grep -q '^ *connmon,tree$' <<<"$zhelp"; then
    log "SKIPPED gui-stats.png: the plugin has no 'connmon,tree' statistics yet"
    return 0
  fi
  write_profile 560
  start_wireshark
  # The plugin's stats trees are the last entries of the Statistics menu
  # (sorted by name; "F5" sorts before "connmon"): open it, wrap to the end.
  key alt+s Up Return
  local w
  w=$(wait_window " connmon ") || die "connmon statistics dialog did not open"
  xdotool windowactivate --sync "$w"
  sleep 3
  shot_window "$w" gui-stats.png " connmon "
  stop_wireshark
}

# nothing malformed, no dissector bug in the capture we show
bad=$(tshark_as_user -r "$CAP" -Y '_ws.malformed || _ws.expert.severity == error' -T fields -e frame.number 2>&1 | wc -l)
[ "$bad" -eq 0 ] || die "$bad packets are malformed or carry error expert infos: check the plugin"

for s in "${SHOTS[@]}"; do "shot_$s"; done
log "done"
