#!/usr/bin/env bash
# Strata and JetStream side by side on this machine, in one run: a local
# 3-node Strata cluster (run.sh, fsync before every ack) and two local
# 3-node JetStream clusters, one with its defaults (fsync every two
# minutes) and one with `sync_interval: always` (fsync on every write, as
# Strata). Each row runs on the three in alternation, ROUNDS times, and
# the script prints one table of figures and Strata/JetStream ratios.
# nats-server v2.15.2 and natscli v0.5.0 are installed with `go install`
# into a temporary GOBIN (or taken from $NATS_BIN); nothing is installed
# for good. `make bench-compare` builds bin/ and runs this from the
# repository root. Knobs: MSGS (async rows), SYNC_MSGS, ROUNDS,
# BACKUP_MIB (0 skips the backup rows), IDLE_STREAMS, IDLE_SECONDS.
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
BACKUP=${BACKUP:-bin/strata-backup}
MSGS=${MSGS:-200000}
SYNC_MSGS=${SYNC_MSGS:-3000}
ROUNDS=${ROUNDS:-2}
BACKUP_MIB=${BACKUP_MIB:-1024}
IDLE_STREAMS=${IDLE_STREAMS:-100}
IDLE_SECONDS=${IDLE_SECONDS:-10}
# shellcheck source=benchlib.sh
. examples/cluster/benchlib.sh
bench_init bench-compare.sh "$STRATA" "$BACKUP"
need_nats

# start_js NAME BASE SYNC: a JetStream cluster on client ports BASE..BASE+2,
# routes BASE+100.., monitoring BASE+200..; SYNC is a sync_interval or "".
start_js() {
	local name=$1 base=$2 sync=$3 i routes=""
	for i in 0 1 2; do routes+="nats://127.0.0.1:$((base + 100 + i)),"; done
	for i in 0 1 2; do
		cat >"$work/$name$i.conf" <<EOF
server_name: $name$i
listen: 127.0.0.1:$((base + i))
http: 127.0.0.1:$((base + 200 + i))
jetstream { store_dir: "$work/$name$i" ${sync:+, sync_interval: $sync} }
cluster { name: $name, listen: 127.0.0.1:$((base + 100 + i)), routes: [${routes%,}] }
EOF
		"$NATS_BIN/nats-server" -c "$work/$name$i.conf" >"$work/$name$i.log" 2>&1 &
		pids+=($!)
	done
}
start_js jsd 14222 ""
start_js jsa 15222 always
start_strata
JSD="$NATS_BIN/nats --no-context -s nats://127.0.0.1:14222,nats://127.0.0.1:14223"
JSA="$NATS_BIN/nats --no-context -s nats://127.0.0.1:15222,nats://127.0.0.1:15223"
js_health=()
for p in 14422 14423 14424 15422 15423 15424; do js_health+=("http://127.0.0.1:$p/healthz?js-enabled-only=true"); done
wait_healthy "${js_health[@]}"
for js in "$JSD" "$JSA"; do
	for _ in $(seq 1 60); do $js account info >/dev/null 2>&1 && break; sleep 0.5; done
done

results=$work/results.tsv # row, system, value, unit
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }

# rate_of prints the msgs/s of a bench's stats line (Strata or natscli).
rate_of() { grep -E "stats" | head -1 | sed -E 's/.*stats: ([0-9,]+) msgs\/sec.*/\1/' | tr -d ,; }

strata_pub() { # row, subject, flags...
	local row=$1 subj=$2 out
	shift 2
	out=$("$STRATA" bench pub "$subj" --stream "${subj%%.*}" "$@" --no-progress)
	record "$row" strata "$(rate_of <<<"$out")" msgs/s
	if [[ $* == *--sync* ]]; then
		record "$row p50" strata "$(sed -nE 's/.*latency: p50 ([0-9.]+(µs|ms|s)).*/\1/p' <<<"$out" | head -1)" ""
		record "$row p99" strata "$(sed -nE 's/.*p99 ([0-9.]+(µs|ms|s)).*/\1/p' <<<"$out" | head -1)" ""
	fi
	"$STRATA" stream rm "${subj%%.*}" -f >/dev/null 2>&1 || true
}

js_pub() { # row, system, cli, stream, mode, flags...
	local row=$1 sys=$2 cli=$3 stream=$4 mode=$5 out
	shift 5
	out=$($cli bench js pub "$mode" "$stream.x" --stream "$stream" --create --storage file --no-progress "$@" 2>&1)
	record "$row" "$sys" "$(rate_of <<<"$out")" msgs/s
	if [[ $mode == sync ]]; then
		record "$row p50" "$sys" "$(sed -nE 's/.*P50: ([0-9,.]+us).*/\1/p' <<<"$out" | head -1 | tr -d ,)" ""
		record "$row p99" "$sys" "$(sed -nE 's/.*P99: ([0-9,.]+us).*/\1/p' <<<"$out" | head -1 | tr -d ,)" ""
	fi
	$cli stream rm "$stream" -f >/dev/null 2>&1 || true
}

# pub_row ROW STRATA-FLAGS -- JS-MODE JS-FLAGS: one row on all three.
pub_row() {
	local row=$1 r=$2 sflags jflags mode
	IFS='|' read -r sflags mode jflags <<<"$3"
	# shellcheck disable=SC2086
	strata_pub "$row" "S$r.x" $sflags
	# shellcheck disable=SC2086
	js_pub "$row" "jetstream" "$JSD" "D$r" "$mode" $jflags
	# shellcheck disable=SC2086
	js_pub "$row" "jetstream always" "$JSA" "A$r" "$mode" $jflags
}

# parallel8 ROW: 8 clients, each publishing MSGS/8 to its own R3 stream
# (created first), at once on each system; the aggregate is all messages
# over the wall time.
parallel8() {
	local row=$1 r=$2 n=$((MSGS / 8)) t0 t1 i
	for i in $(seq 1 8); do "$STRATA" stream add "P$r$i" --subjects "P$r$i.>" --replicas 3 >/dev/null; done
	t0=$(date +%s.%N)
	for i in $(seq 1 8); do
		"$STRATA" bench pub "P$r$i.x" --stream "P$r$i" --msgs "$n" --size 128 --async --batch 1000 --no-progress >/dev/null &
	done
	wait_bench
	t1=$(date +%s.%N)
	record "$row" strata "$(awk -v m=$((n * 8)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" msgs/s
	for i in $(seq 1 8); do "$STRATA" stream rm "P$r$i" -f >/dev/null 2>&1 || true; done
	for sys in "jetstream|$JSD" "jetstream always|$JSA"; do
		local name=${sys%%|*} cli=${sys#*|}
		for i in $(seq 1 8); do $cli stream add "Q$r$i" --subjects "Q$r$i.>" --replicas 3 --storage file --defaults >/dev/null; done
		t0=$(date +%s.%N)
		for i in $(seq 1 8); do
			$cli bench js pub async "Q$r$i.x" --stream "Q$r$i" --msgs "$n" --size 128 --batch 1000 --no-progress >/dev/null 2>&1 &
		done
		wait_bench
		t1=$(date +%s.%N)
		record "$row" "$name" "$(awk -v m=$((n * 8)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" msgs/s
		for i in $(seq 1 8); do $cli stream rm "Q$r$i" -f >/dev/null 2>&1 || true; done
	done
}
wait_bench() { for j in $(jobs -rp); do [[ " ${pids[*]} " == *" $j "* ]] || wait "$j"; done; }

# consume_row ROW: explicit acks, batch 500, one worker, on a filled R3 stream.
consume_row() {
	local row=$1 r=$2 out sys cli
	out=$("$STRATA" bench consume "C$r" --replicas 3 --msgs "$MSGS" --size 128 --consumer w --consumers 1 --batch 500 --no-progress)
	record "$row" strata "$(grep -E "^Consume stats" <<<"$out" | sed -E 's/.*stats: ([0-9,]+) msgs\/sec.*/\1/' | tr -d ,)" msgs/s
	"$STRATA" stream rm "C$r" -f >/dev/null 2>&1 || true
	for sys in "jetstream|$JSD" "jetstream always|$JSA"; do
		cli=${sys#*|}
		$cli bench js pub async "C$r.x" --stream "C$r" --create --replicas 3 --storage file --msgs "$MSGS" --size 128 \
			--batch 2000 --no-progress >/dev/null 2>&1
		$cli consumer add "C$r" w --pull --deliver all --ack explicit --max-pending 1000 --wait 30s --replay instant --defaults >/dev/null
		out=$($cli bench js fetch --stream "C$r" --consumer w --acks explicit --msgs "$MSGS" --batch 500 --no-progress 2>&1)
		record "$row" "${sys%%|*}" "$(rate_of <<<"$out")" msgs/s
		$cli stream rm "C$r" -f >/dev/null 2>&1 || true
	done
}

# backup_rows R: BACKUP_MIB of 4 KB messages in an R3 stream on each system,
# saved to a directory and restored (after the stream is deleted).
backup_rows() {
	local r=$1 n=$((BACKUP_MIB * 256)) t0 t1 sys cli dir
	"$STRATA" bench pub "K$r.x" --stream "K$r" --replicas 3 --msgs "$n" --size 4096 --async --batch 500 --keep --no-progress >/dev/null
	dir=$work/strata-backup-$r
	t0=$(date +%s.%N)
	"$BACKUP" save "K$r" "$dir" --no-progress >/dev/null
	t1=$(date +%s.%N)
	record "backup save 1 GiB" strata "$(awk -v m="$BACKUP_MIB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" MiB/s
	"$STRATA" stream rm "K$r" -f >/dev/null
	t0=$(date +%s.%N)
	"$BACKUP" restore "$dir/K$r" --no-progress >/dev/null
	t1=$(date +%s.%N)
	record "backup restore 1 GiB" strata "$(awk -v m="$BACKUP_MIB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" MiB/s
	"$STRATA" stream rm "K$r" -f >/dev/null 2>&1 || true
	rm -rf "$dir"
	for sys in "jetstream|$JSD" "jetstream always|$JSA"; do
		cli=${sys#*|}
		dir=$work/js-backup-$r
		# natscli's bench creates streams of 1 GiB at most: make it unbounded.
		$cli stream add "K$r" --subjects "K$r.>" --replicas 3 --storage file --max-bytes=-1 --defaults >/dev/null
		$cli bench js pub async "K$r.x" --stream "K$r" --msgs "$n" --size 4096 --batch 500 --no-progress >/dev/null
		t0=$(date +%s.%N)
		$cli stream backup "K$r" "$dir" --no-progress >/dev/null
		t1=$(date +%s.%N)
		record "backup save 1 GiB" "${sys%%|*}" "$(awk -v m="$BACKUP_MIB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" MiB/s
		$cli stream rm "K$r" -f >/dev/null
		t0=$(date +%s.%N)
		$cli stream restore "$dir" --no-progress >/dev/null
		t1=$(date +%s.%N)
		record "backup restore 1 GiB" "${sys%%|*}" "$(awk -v m="$BACKUP_MIB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", m/(b-a)}')" MiB/s
		$cli stream rm "K$r" -f >/dev/null 2>&1 || true
		rm -rf "$dir"
	done
}

# cpu_ticks PATTERN: the user+system clock ticks of the processes whose
# command line matches PATTERN (children, such as plugins, included).
cpu_ticks() {
	local total=0 p f
	for p in $(pgrep -f "$1" || true); do
		for f in /proc/"$p"/stat; do
			[[ -r $f ]] || continue
			total=$((total + $(awk '{print $14 + $15}' "$f")))
		done
		for c in $(pgrep -P "$p" || true); do
			[[ -r /proc/$c/stat ]] && total=$((total + $(awk '{print $14 + $15}' /proc/"$c"/stat)))
		done
	done
	echo "$total"
}
rss_kib() { # PATTERN: the summed RSS of the matching processes and their children
	local total=0 p c
	for p in $(pgrep -f "$1" || true); do
		total=$((total + $(awk '/VmRSS/{print $2}' /proc/"$p"/status 2>/dev/null || echo 0)))
		for c in $(pgrep -P "$p" || true); do total=$((total + $(awk '/VmRSS/{print $2}' /proc/"$c"/status 2>/dev/null || echo 0))); done
	done
	echo "$total"
}

# idle_row: IDLE_STREAMS R3 streams on each system, then the CPU (% of one
# core, all three nodes) and RSS while nothing happens for IDLE_SECONDS.
idle_row() {
	local i hz t0 t1 sys
	hz=$(getconf CLK_TCK)
	for i in $(seq 1 "$IDLE_STREAMS"); do
		"$STRATA" stream add "I$i" --subjects "I$i.>" --replicas 3 >/dev/null
		$JSD stream add "I$i" --subjects "I$i.>" --replicas 3 --storage file --defaults >/dev/null
		$JSA stream add "I$i" --subjects "I$i.>" --replicas 3 --storage file --defaults >/dev/null
	done
	sleep 5 # let the new groups elect and settle before measuring
	for sys in "strata|serve --config examples/cluster/n[0-9].hcl" "jetstream|jsd[0-9].conf" "jetstream always|jsa[0-9].conf"; do
		t0=$(cpu_ticks "${sys#*|}")
		sleep "$IDLE_SECONDS"
		t1=$(cpu_ticks "${sys#*|}")
		record "idle, $IDLE_STREAMS R3 streams: CPU (3 nodes)" "${sys%%|*}" \
			"$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$IDLE_SECONDS" 'BEGIN{printf "%.1f", 100*d/hz/s}')" "% of a core"
		record "idle, $IDLE_STREAMS R3 streams: RSS (3 nodes)" "${sys%%|*}" "$(($(rss_kib "${sys#*|}") / 1024))" MiB
	done
}

for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r of $ROUNDS" >&2
	pub_row "R1 async 128 B" "a1$r" "--replicas 1 --msgs $MSGS --size 128 --async --batch 2000|async|--replicas 1 --msgs $MSGS --size 128 --batch 2000"
	pub_row "R3 async 128 B" "a3$r" "--replicas 3 --msgs $MSGS --size 128 --async --batch 2000|async|--replicas 3 --msgs $MSGS --size 128 --batch 2000"
	pub_row "R1 async 4 KB" "k1$r" "--replicas 1 --msgs $((MSGS / 4)) --size 4096 --async --batch 500|async|--replicas 1 --msgs $((MSGS / 4)) --size 4096 --batch 500"
	pub_row "R3 async 4 KB" "k3$r" "--replicas 3 --msgs $((MSGS / 4)) --size 4096 --async --batch 500|async|--replicas 3 --msgs $((MSGS / 4)) --size 4096 --batch 500"
	pub_row "R3 sync 128 B" "s3$r" "--replicas 3 --msgs $SYNC_MSGS --size 128 --sync|sync|--replicas 3 --msgs $SYNC_MSGS --size 128"
	parallel8 "R3 async 128 B, 8 clients to 8 streams" "$r"
	consume_row "consume R3, explicit acks, batch 500" "$r"
	if ((BACKUP_MIB > 0)); then backup_rows "$r"; fi
done
if ((IDLE_STREAMS > 0)); then idle_row; fi

# The table: per row, each system's range over the rounds, and the ratios
# of Strata's median to each JetStream's.
echo
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) vCPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), commit $(git rev-parse --short HEAD), MSGS=$MSGS ROUNDS=$ROUNDS"
echo
awk -F'\t' '
function num(v) { gsub(/[^0-9.]/, "", v); return v + 0 }
function usec(v) { if (v ~ /ms$/) return num(v) * 1000; if (v ~ /µs$|us$/) return num(v); if (v ~ /s$/) return num(v) * 1e6; return num(v) }
{ key = $1 SUBSEP $2; if (!(key in n)) { order[++rows[$1]] = $2 } ; if (!($1 in seen)) { seen[$1] = 1; list[++nrows] = $1 }
  v = ($1 ~ /p50|p99/) ? usec($3) : num($3); vals[key, ++n[key]] = v; unit[$1] = $4 }
function median(key,   i, j, t, a, m) { m = n[key]; for (i = 1; i <= m; i++) a[i] = vals[key, i]
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
function span(key,   i, lo, hi) { lo = hi = vals[key, 1]; for (i = 2; i <= n[key]; i++) { if (vals[key, i] < lo) lo = vals[key, i]; if (vals[key, i] > hi) hi = vals[key, i] }
  return (lo == hi) ? sprintf("%g", lo) : sprintf("%g–%g", lo, hi) }
END {
  print "| row | unit | Strata | JetStream | JetStream sync always | Strata / JetStream | Strata / JetStream sync always |"
  print "| --- | --- | --- | --- | --- | --- | --- |"
  for (r = 1; r <= nrows; r++) { row = list[r]; u = (row ~ /p50|p99/) ? "µs" : unit[row]
    s = median(row SUBSEP "strata"); d = median(row SUBSEP "jetstream"); a = median(row SUBSEP "jetstream always")
    # For latencies, CPU and RSS lower is better: the ratio is still Strata over JetStream.
    printf "| %s | %s | %s | %s | %s | %.2f | %.2f |\n", row, u, span(row SUBSEP "strata"), span(row SUBSEP "jetstream"),
      span(row SUBSEP "jetstream always"), (d ? s / d : 0), (a ? s / a : 0) } }' "$results"
