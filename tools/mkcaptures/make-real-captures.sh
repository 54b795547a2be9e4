#!/bin/bash
# Generate real Linux TCP captures taken in the middle of an emulated path.
#
#   netns A [tun] <--> tunfwd (root ns, writes the pcap) <--> [tun] netns B
#   10.201.0.1 / fd00:c0::1                          10.201.0.2 / fd00:c0::2
#
# Each scenario gets fresh namespaces (so no TCP metrics cache carries over),
# a fresh tunfwd with its own impairments, and a few stdlib-only python
# clients/servers (traffic.py).  Run as root:
#
#   tools/mkcaptures/make-real-captures.sh            # all scenarios
#   tools/mkcaptures/make-real-captures.sh reorder    # only some of them
#
# OUT=/some/dir overrides the output directory (default pcaps/real).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/../../pcaps/real}
PY=/usr/bin/python3
# Congestion control, pinned because a netns inherits the host default,
# which may be BBR (keeps queues short: no RTT growth in the bottleneck
# scenario).  A child netns may only pick from the host's allowed list, so
# traffic.py sets it per socket (TCP_CONGESTION, fine with CAP_NET_ADMIN).
export TCP_CC=${TCP_CC:-cubic}
TRAFFIC=$HERE/traffic.py
NSA=cm-a-$$ NSB=cm-b-$$      # unique per run; the pid also lets us spot stale ones
TUNA=cma$$ TUNB=cmb$$        # IFNAMSIZ is 16, keep it short
WORK=$(mktemp -d /tmp/mkcaptures.XXXXXX)
FWD_PID=""
BG_PIDS=()   # servers
CLIENTS=()   # traffic clients of the current scenario

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

log() { echo "== $*" >&2; }

# Tear everything down: traffic, forwarder (closing its fds destroys the TUN
# devices), namespaces.  Safe to call repeatedly and from the EXIT trap.
teardown() {
    local p
    for p in "${CLIENTS[@]}" "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${CLIENTS[@]}" "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    CLIENTS=() BG_PIDS=()
    if [ -n "$FWD_PID" ]; then
        kill -TERM "$FWD_PID" 2>/dev/null || true
        wait "$FWD_PID" 2>/dev/null || true
        FWD_PID=""
    fi
    ip netns del "$NSA" 2>/dev/null || true
    ip netns del "$NSB" 2>/dev/null || true
}
trap 'teardown; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# Namespaces left behind by a run that was SIGKILLed (their creator pid is
# gone): stop the servers/clients still running inside, then delete them.
# (tunfwd itself exits with its parent: PR_SET_PDEATHSIG.)
for ns in $(ip netns list | awk '{print $1}' | grep -E '^cm-[ab]-[0-9]+$' || true); do
    kill -0 "${ns##*-}" 2>/dev/null && continue
    log "removing stale netns $ns"
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    ip netns del "$ns" || true
done

mkdir -p "$OUT"
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$WORK/tunfwd" "$HERE/tunfwd.c"

# start_env TS_ON(0|1) TUNFWD-ARGS...
start_env() {
    local ts=$1; shift
    ip netns add "$NSA"
    ip netns add "$NSB"
    rm -f "$WORK/ready"
    # The forwarder creates both TUNs in the root ns; we then move them into
    # the namespaces.  The open fds keep working across the move.
    "$WORK/tunfwd" -a "$TUNA" -b "$TUNB" -r "$WORK/ready" -v "$@" 2>"$WORK/fwd.log" &
    FWD_PID=$!
    local i
    for i in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
    [ -e "$WORK/ready" ] || { cat "$WORK/fwd.log" >&2; return 1; }
    local ns dev a4 a6
    for side in A B; do
        if [ $side = A ]; then ns=$NSA dev=$TUNA a4=10.201.0.1 a6=fd00:c0::1
        else ns=$NSB dev=$TUNB a4=10.201.0.2 a6=fd00:c0::2; fi
        ip link set "$dev" netns "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps="$ts"
        ip -n "$ns" link set lo up
        # no IPv6 link-local address -> no router solicitations / MLD noise
        ip -n "$ns" link set "$dev" addrgenmode none
        ip -n "$ns" addr add "$a4/24" dev "$dev"
        ip -n "$ns" addr add "$a6/64" dev "$dev" nodad
        ip -n "$ns" link set "$dev" up
        # servers on both sides so flows can be opened in either direction
        ip netns exec "$ns" "$PY" "$TRAFFIC" server 5001 &
        BG_PIDS+=($!)
    done
    for ns in "$NSA" "$NSB"; do
        for i in $(seq 50); do
            ip netns exec "$ns" ss -Hltn 'sport = :5001' | grep -q . && break
            sleep 0.1
        done
    done
}

# client SIDE(A|B) HOST OPS... : run a traffic client in the background
client() {
    local ns=$NSA; [ "$1" = B ] && ns=$NSB
    shift
    ip netns exec "$ns" timeout 40 "$PY" "$TRAFFIC" client "$1" 5001 "${@:2}" &
    CLIENTS+=($!)
}

# finish NAME: wait for the clients, let the last FIN/ACKs drain through the
# delayed path, stop the forwarder (flushes the pcap), tear down.
finish() {
    local rc=0 p
    for p in "${CLIENTS[@]}"; do wait "$p" || rc=1; done
    CLIENTS=()
    sleep 0.5
    kill -TERM "$FWD_PID"; wait "$FWD_PID" || true; FWD_PID=""
    sed "s/^/   /" "$WORK/fwd.log" >&2
    teardown
    [ $rc = 0 ] || { echo "a client failed in scenario $1" >&2; return 1; }
    mv "$WORK/$1.pcap" "$OUT/$1.pcap"
    log "$1: $(stat -c %s "$OUT/$1.pcap") bytes"
}

# ---------------------------------------------------------------- scenarios
# Drop lists count TCP segments with payload per direction (1-based).

ipv4_delay_loss() {
    # RTT 40 ms: 10 ms A<->CP + 10 ms CP<->B, i.e. 20 ms one-way each way.
    # Bulk upload A->B plus request/response; holes (drop-pre) and
    # post-CP losses (drop-post) in both directions.
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 128 -S 11 --delay-a 10 --delay-b 10 \
        --ab drop-pre=40,310,620 --ab drop-post=150,480,800 \
        --ba drop-pre=5 --ba drop-post=11
    client A 10.201.0.2 put:1500000
    client A 10.201.0.2 sleep:100 rr:12:300:3000:150
    finish $FUNCNAME
}

ipv6_bulk() {
    # asymmetric: 5 ms A<->CP, 30 ms CP<->B; download B->A over IPv6
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 128 -S 22 --delay-a 5 --delay-b 30 \
        --ba drop-pre=120,700 --ba drop-post=350,1100 --ba loss-pre=0.001
    client A fd00:c0::2 get:2000000
    finish $FUNCNAME
}

parallel_flows() {
    # 6 flows, opened from both sides, uploads, downloads and idle-gapped
    # request/response; light random loss both ways.
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 128 -S 33 --delay-a 8 --delay-b 12 \
        --ab loss-pre=0.002 --ab loss-post=0.002 --ba loss-pre=0.002 --ba loss-post=0.002
    client A 10.201.0.2 get:800000
    client A 10.201.0.2 put:500000
    client B 10.201.0.1 get:400000
    client B fd00:c0::1 put:300000
    client A 10.201.0.2 rr:10:200:2500:400
    client B fd00:c0::1 sleep:200 rr:8:100:800:500
    finish $FUNCNAME
}

reorder() {
    # some data segments held back 3-4 ms: before the CP (capture sees them
    # out of order) and after it (receiver sees them out of order -> dupacks)
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 128 -S 44 --delay-a 5 --delay-b 5 \
        --ab reorder-pre=0.01:3 --ab reorder-post=0.01:4 \
        --ba reorder-pre=0.01:3 --ba reorder-post=0.01:2.5
    client A 10.201.0.2 put:1000000
    client A 10.201.0.2 get:1000000
    finish $FUNCNAME
}

bottleneck() {
    # 3 Mbit/s bottleneck after the CP on the B->A path with a 45 kB queue
    # (120 ms): the download's RTT at the CP grows from 20 ms to ~140 ms
    # until the queue overflows (tail drops after the CP).
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 96 -S 55 --delay-a 5 --delay-b 5 \
        --ba rate=375000 --ba queue=45000 --ba rate-at=post
    client A 10.201.0.2 get:1200000
    finish $FUNCNAME
}

nots() {
    # no TCP timestamps on either host; bulk download with holes and losses
    start_env 0 -w "$WORK/$FUNCNAME.pcap" -s 128 -S 66 --delay-a 10 --delay-b 10 \
        --ba drop-pre=80,500 --ba drop-post=250,900 --ab drop-post=3
    client A 10.201.0.2 get:1500000
    client A 10.201.0.2 rr:6:100:1500:200
    finish $FUNCNAME
}

snaplen64() {
    # 14 eth + 20 ip + 20 tcp = 54: the 12-byte timestamp option is cut
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -s 64 -S 77 --delay-a 10 --delay-b 10 \
        --ab drop-pre=200 --ab drop-post=400
    client A 10.201.0.2 put:800000
    client A 10.201.0.2 rr:5:100:1000:200
    finish $FUNCNAME
}

raw_ip() {
    # LINKTYPE_RAW, full frames, small: one IPv4 and one IPv6 flow
    start_env 1 -w "$WORK/$FUNCNAME.pcap" -l raw -s 65535 -S 88 --delay-a 3 --delay-b 7 \
        --ab drop-pre=50 --ab drop-post=120 --ba drop-pre=70 --ba drop-post=30
    client A 10.201.0.2 put:200000
    client B fd00:c0::1 put:150000
    finish $FUNCNAME
}

ALL="ipv4_delay_loss ipv6_bulk parallel_flows reorder bottleneck nots snaplen64 raw_ip"
for s in ${@:-$ALL}; do
    case " $ALL " in *" $s "*) ;; *) echo "unknown scenario $s" >&2; exit 2;; esac
    log "scenario $s"
    "$s"
done

# ---------------------------------------------------------------- summary
# What tshark's TCP analysis sees in each file (needs tshark; informational).
# lost = "previous segment not captured" (hole: loss before the CP),
# retr/fastr = retransmissions, ooo = out-of-order, hdrcut = frames whose
# TCP header (incl. options) is cut by the snaplen, rtt =
# tcp.analysis.ack_rtt (data seen -> the ACK for it seen) in ms.
if command -v tshark >/dev/null; then
    count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
    fmt='%-16s %7s %5s %4s %4s %4s %5s %4s %6s %5s %6s %7s %7s\n'
    printf "$fmt" file bytes pkts conv lost retr fastr ooo dupack hdrcut maxlen rtt_min rtt_max
    for s in ${@:-$ALL}; do
        f=$OUT/$s.pcap
        rtt=$(tshark -r "$f" -T fields -e tcp.analysis.ack_rtt 2>/dev/null | awk 'NF {
            v = $1 * 1000; if (n++ == 0 || v < lo) lo = v; if (v > hi) hi = v }
            END { if (n) printf "%.1f %.1f", lo, hi; else print "- -" }')
        printf "$fmt" "$s" "$(stat -c %s "$f")" "$(count "$f" frame)" \
            "$(tshark -r "$f" -q -z conv,tcp 2>/dev/null | grep -c '<->')" \
            "$(count "$f" tcp.analysis.lost_segment)" \
            "$(count "$f" tcp.analysis.retransmission)" \
            "$(count "$f" tcp.analysis.fast_retransmission)" \
            "$(count "$f" tcp.analysis.out_of_order)" \
            "$(count "$f" tcp.analysis.duplicate_ack)" \
            "$(tshark -r "$f" -T fields -E occurrence=f -e frame.cap_len -e eth.type \
                -e ip.hdr_len -e ipv6.plen -e tcp.hdr_len 2>/dev/null | awk -F'\t' '
                { l2 = ($2 != "") ? 14 : 0; l3 = ($3 != "") ? $3 : 40
                  if ($5 != "" && $1 < l2 + l3 + $5) n++ } END { print n + 0 }')" \
            "$(tshark -r "$f" -T fields -e frame.len 2>/dev/null | sort -n | tail -1)" \
            $rtt
    done
fi
