#!/usr/bin/env bash
# The benchmark command: every performance target of lockstep, measured with Go
# benchmarks (never timed unit tests), and the scaling curve. Run on a quiet
# machine; takes a while (the scaling section alone runs locker-metro, 24 M
# parcels). Usage: scripts/bench.sh [quick|scaling], or
# scripts/bench.sh pair REV_A REV_B [SCENARIO] [PAIRS].
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
  "" | quick | scaling | pair) ;;
  *)
    echo "usage: scripts/bench.sh [quick|scaling]"
    echo "       scripts/bench.sh pair REV_A REV_B [SCENARIO] [PAIRS]"
    echo "  runs every performance benchmark of lockstep (kernel, city, replications, twin, snapshots),"
    echo "  the locker-city memory measurement and the scaling section;"
    echo "  'quick' runs only the kernel, the city benchmarks (locker-day and locker-city in one run, their"
    echo "  wall ratio; the pilot) and locker-city's memory;"
    echo "  'scaling' runs only the scaling section: lockstep run on the four bench scenarios"
    echo "  (locker-day 1x, locker-city 10x, locker-region 30x, locker-metro 100x) under /usr/bin/time,"
    echo "  then the hand-written reference loop (experiment/reference_test.go) at the same sizes;"
    echo "  written to docs/scaling.tsv and drawn as docs/scaling.svg and docs/scaling.png."
    echo "  Environment: BENCH_SCALING_SCENARIOS (directory of the four locker-*.yaml, default"
    echo "  scenarios/bench), BENCH_SCALING_OUT (output path without extension, default docs/scaling)."
    echo "  'pair' compares two git revisions (or . for the working tree) on one scenario"
    echo "  (default scenarios/bench/locker-city.yaml, 20 pairs): both replications run at once,"
    echo "  one per CPU, swapping CPUs every pair, so a shared machine's changing speed hits both;"
    echo "  it prints each pair's milliseconds and B/A, then in how many pairs B was faster and"
    echo "  the median B/A. Needs 2 CPUs and taskset."
    echo "  Figures and targets are in docs/performance.md."
    [ "$mode" = "-h" ] || [ "$mode" = "--help" ] && exit 0
    exit 2 ;;
esac

# scaling runs `lockstep run` on each bench scenario under /usr/bin/time (wall
# seconds, peak RSS) and writes $out.tsv, one row per scenario: size (multiple
# of locker-day), scenario, parcels, wall_s, parcels_per_s, peak_rss_mb.
# parcels is the orders placed, warm-up included: the benchmarks' r.Parcels,
# summed from the hourly trace in results.json (--trace; the simulator keeps
# the trace in every run, the flag only writes it out), not metrics.orders,
# which counts the orders after the warm-up only. wall_s is the whole command
# (loading the scenario, writing results.json). Then it runs the reference
# loop (experiment/reference_test.go) at the same four sizes and adds its
# rows as reference-day .. reference-metro (wall_s the loop's own time,
# peak_rss_mb its test binary's), draws $out.svg and $out.png
# (internal/scalingplot) and prints the wall and RSS figures against the
# targets of issue 17.
scaling() {
  local dir=${BENCH_SCALING_SCENARIOS:-scenarios/bench} out=${BENCH_SCALING_OUT:-docs/scaling}
  command -v jq >/dev/null || { echo "bench.sh scaling: needs jq to read results.json" >&2; exit 1; }
  [ -x /usr/bin/time ] || { echo "bench.sh scaling: needs GNU time at /usr/bin/time" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  go build -o "$tmp/lockstep" ./cmd/lockstep
  printf 'size\tscenario\tparcels\twall_s\tparcels_per_s\tpeak_rss_mb\n' >"$tmp/scaling.tsv"
  local size name wall kb parcels
  for spec in 1:locker-day 10:locker-city 30:locker-region 100:locker-metro; do
    size=${spec%%:*} name=${spec#*:}
    echo "-- $name (${size}x): lockstep run $dir/$name.yaml"
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$tmp/lockstep" run "$dir/$name.yaml" --out "$tmp/$name" --trace --quiet >/dev/null
    read -r wall kb <"$tmp/time"
    parcels=$(jq -e '[.replications[0].trace[].orders] | add' "$tmp/$name/results.json")
    awk -v s="$size" -v n="$name" -v p="$parcels" -v w="$wall" -v k="$kb" 'BEGIN {
      if (w <= 0) w = 0.01  # %e has two decimals
      printf "%s\t%s\t%d\t%.2f\t%.0f\t%.1f\n", s, n, p, w, p / w, k / 1024
    }' >>"$tmp/scaling.tsv"
    tail -n 1 "$tmp/scaling.tsv"
  done
  # the reference loop (experiment/reference_test.go, the hand-written loop
  # issue 17 measured against) at the same four sizes, one process each:
  # wall_s is the loop alone (ns/op), peak_rss_mb the test binary's peak
  go test -c -o "$tmp/experiment.test" ./experiment
  local out_b ns
  for spec in 1:Day 10:City 30:Region 100:Metro; do
    size=${spec%%:*} name=${spec#*:}
    echo "-- reference loop (${size}x): BenchmarkReference$name"
    out_b=$(cd experiment && /usr/bin/time -f '%e %M' -o "$tmp/time" "$tmp/experiment.test" \
      -test.run '^$' -test.bench "^BenchmarkReference$name\$" -test.benchtime 1x)
    read -r wall kb <"$tmp/time"
    read -r ns parcels < <(awk '$1 ~ /^BenchmarkReference/ { for (i = 2; i < NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "parcels/op") p = $i } } END { print ns, p }' <<<"$out_b")
    awk -v s="$size" -v n="reference-$(echo "$name" | tr '[:upper:]' '[:lower:]')" -v p="$parcels" -v ns="$ns" -v k="$kb" 'BEGIN {
      w = ns / 1e9; if (w <= 0) w = 0.001
      printf "%s\t%s\t%d\t%.3f\t%.0f\t%.1f\n", s, n, p, w, p / w, k / 1024
    }' >>"$tmp/scaling.tsv"
    tail -n 1 "$tmp/scaling.tsv"
  done
  # the executable's own resident pages, part of every peak RSS above
  /usr/bin/time -f '%M' -o "$tmp/time" "$tmp/lockstep" version >/dev/null
  echo "baseline: lockstep version alone peaks at $(($(cat "$tmp/time") / 1024)) MB RSS (the executable's pages)"
  (cd experiment && /usr/bin/time -f '%M' -o "$tmp/time" "$tmp/experiment.test" -test.run '^$' >/dev/null)
  echo "baseline: the reference loop's test binary alone peaks at $(($(cat "$tmp/time") / 1024)) MB RSS"
  mkdir -p "$(dirname "$out")"
  cp "$tmp/scaling.tsv" "$out.tsv"
  echo "wrote $out.tsv"
  go run ./internal/scalingplot -out "$out" "$out.tsv"
  awk -F '\t' 'NR > 1 { wall[$2] = $4; rss[$2] = $6; rate[$2] = $5 } END {
    printf "locker-day: %.0f parcels/s (target >= 1 000 000; BenchmarkLockerDay times the simulation alone)\n", rate["locker-day"]
    if (wall["locker-day"] > 0) {
      printf "wall ratio (lockstep run) city/day: %.1fx (target <= 11x), metro/day: %.1fx (target <= 110x)\n", wall["locker-city"] / wall["locker-day"], wall["locker-metro"] / wall["locker-day"]
    }
    if (wall["reference-day"] > 0) {
      printf "the reference loop, the same growth measured on the loop alone: city/day %.1fx, metro/day %.1fx\n", wall["reference-city"] / wall["reference-day"], wall["reference-metro"] / wall["reference-day"]
    }
    printf "peak RSS: city %.1f MB (target < 50 MB), metro %.1f MB (target < 300 MB)\n", rss["locker-city"], rss["locker-metro"]
  }' "$out.tsv"
}

# pair builds the experiment benchmarks of two revisions (git archive; "."
# is the working tree) with BenchmarkScenario added where a revision
# predates it, then runs PAIRS pairs of one replication each of SCENARIO,
# both binaries at once pinned to CPUs 0 and 1 (swapped every pair).
pair() {
  [ $# -ge 2 ] || { echo "usage: scripts/bench.sh pair REV_A REV_B [SCENARIO] [PAIRS]" >&2; exit 2; }
  local a=$1 b=$2 scen=${3:-scenarios/bench/locker-city.yaml} n=${4:-20}
  command -v taskset >/dev/null || { echo "bench.sh pair: needs taskset (util-linux)" >&2; exit 1; }
  [ "$(nproc)" -ge 2 ] || { echo "bench.sh pair: needs 2 CPUs, one per side" >&2; exit 1; }
  [ -f "$scen" ] || { echo "bench.sh pair: no scenario file $scen" >&2; exit 1; }
  scen=$(realpath "$scen")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  local side rev
  for side in a b; do
    if [ "$side" = a ]; then rev=$a; else rev=$b; fi
    if [ "$rev" = . ]; then
      go test -c -o "$tmp/$side.test" ./experiment
      continue
    fi
    mkdir "$tmp/$side"
    git archive "$rev" | tar -x -C "$tmp/$side"
    [ -f "$tmp/$side/experiment/bench_scenario_test.go" ] || cp experiment/bench_scenario_test.go "$tmp/$side/experiment/"
    (cd "$tmp/$side" && go test -c -o "$tmp/$side.test" ./experiment)
  done
  one() { # cpu binary out
    (cd experiment && LOCKSTEP_BENCH_SCENARIO=$scen taskset -c "$1" "$2" -test.run '^$' -test.bench '^BenchmarkScenario$' -test.benchtime 1x) |
      awk '$1 ~ /^BenchmarkScenario/ { printf "%.0f\n", $3 / 1e6 }' >"$3"
  }
  echo "pair: A=$a B=$b on $scen, $n pairs (ms per replication; B/A)"
  local i ca cb
  for i in $(seq "$n"); do
    if [ $((i % 2)) = 1 ]; then ca=0 cb=1; else ca=1 cb=0; fi
    one "$ca" "$tmp/a.test" "$tmp/a.ms" &
    one "$cb" "$tmp/b.test" "$tmp/b.ms" &
    wait
    printf '%s\t%s\n' "$(cat "$tmp/a.ms")" "$(cat "$tmp/b.ms")" | tee -a "$tmp/pairs"
  done
  awk -F '\t' '{ printf "%.6f\n", $2 / $1 }' "$tmp/pairs" | sort -n | awk '
    { r[NR] = $1; if ($1 < 1) faster++ }
    END {
      n = NR
      med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      printf "B faster in %d of %d pairs; median B/A %.3f (range %.3f-%.3f)\n", faster, n, med, r[1], r[n]
    }' 
}

if [ "$mode" = pair ]; then
  shift
  pair "$@"
  exit 0
fi

if [ "$mode" = scaling ]; then
  echo "== scaling: lockstep run on locker-day, -city, -region, -metro (1x, 10x, 30x, 100x): parcels/s and peak RSS"
  scaling
  exit 0
fi

echo "== event kernel: hold model, ties and sparse (target >= 15 M events/s at N=1e5, 0 allocs/op), schedule+cancel, Kernel.Run"
go test -run '^$' -bench 'Hold|ScheduleCancel|KernelRun' -benchmem -count 3 ./sim/

echo "== city: locker-day (target >= 1 000 000 parcels/s) and locker-city in one run: city's wall <= 11x day's (issue 17)"
ratio_out=$(mktemp)
go test -run '^$' -bench 'LockerDay$|LockerCity$' -benchtime 1x -count 3 -benchmem ./experiment/ | tee "$ratio_out"
# median ns/op (one replication each) of each benchmark, then their ratio
awk '$1 ~ /^BenchmarkLocker(Day|City)(-[0-9]+)?$/ { name = $1; sub(/-[0-9]+$/, "", name); ns[name] = ns[name] " " $3 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  END {
    d = median(ns["BenchmarkLockerDay"]); c = median(ns["BenchmarkLockerCity"])
    if (d > 0) printf "wall per replication (median of 3): locker-day %.3f s, locker-city %.3f s: ratio %.2fx (target <= 11x)\n", d / 1e9, c / 1e9, c / d
  }' "$ratio_out"
rm -f "$ratio_out"

echo "== pilot, with and without connectivity drops (<= 1.5x)"
go test -run '^$' -bench 'BenchmarkPilot$' -benchtime 3x -benchmem ./experiment/
go test -run '^$' -bench 'PilotDrops' -count 3 ./sim/

echo "== locker-city: 2.4 M parcels, peak RSS (target < 50 MB, issue 17)"
go build -o /tmp/lockstep-bench ./cmd/lockstep
/usr/bin/time -f 'locker-city: %e s wall, %M KB peak RSS' /tmp/lockstep-bench run scenarios/bench/locker-city.yaml --out /tmp/lockstep-bench-out --quiet >/dev/null

[ "$mode" = quick ] && exit 0

echo "== replications: 100 pilot replications on 1 and 2 workers (target speed-up >= 1.8x)"
go test -run '^$' -bench 'PilotReplications' -benchtime 1x ./experiment/

echo "== sweep: 4 x 3 grid x 10 replications on the pilot, 1 and 2 workers"
go test -run '^$' -bench 'SweepPilot' -benchtime 1x ./sweep/

echo "== model: core snapshot of 100 000 labels (marshal, unmarshal)"
go test -run '^$' -bench 'Snapshot' -benchtime 20x -benchmem ./model/

for pkg in ./hwsim/ ./twin/... ./twin/transport/; do
  if go test -list 'Benchmark.*' "$pkg" 2>/dev/null | grep -q '^Benchmark'; then
    echo "== $pkg"
    go test -run '^$' -bench . -benchtime 2s "$pkg"
  fi
done

echo "== scaling: lockstep run on locker-day, -city, -region, -metro (1x, 10x, 30x, 100x): parcels/s and peak RSS"
scaling
