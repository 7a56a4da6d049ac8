#!/usr/bin/env bash
# The benchmark command: every performance target of lockstep, measured with Go
# benchmarks (never timed unit tests). Run on a quiet machine; takes a few
# minutes. Usage: scripts/bench.sh [quick]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
case "$quick" in
  "" | quick) ;;
  *)
    echo "usage: scripts/bench.sh [quick]"
    echo "  runs every performance benchmark of lockstep (kernel, city, replications, twin, snapshots)"
    echo "  and the locker-city memory measurement; 'quick' runs only the kernel and the city."
    echo "  Figures and targets are in docs/performance.md."
    [ "$quick" = "-h" ] || [ "$quick" = "--help" ] && exit 0
    exit 2 ;;
esac

echo "== event kernel: hold model, ties and sparse (target >= 15 M events/s at N=1e5, 0 allocs/op), schedule+cancel, Kernel.Run"
go test -run '^$' -bench 'Hold|ScheduleCancel|KernelRun' -benchmem -count 3 ./sim/

echo "== city: locker-day (target >= 500 000 parcels/s), pilot with and without connectivity drops (<= 1.5x)"
go test -run '^$' -bench 'LockerDay|BenchmarkPilot$' -benchtime 3x -benchmem ./experiment/
go test -run '^$' -bench 'PilotDrops' -count 3 ./sim/

echo "== locker-city: 2.4 M parcels, peak RSS (target < 200 MB)"
go build -o /tmp/lockstep-bench ./cmd/lockstep
/usr/bin/time -f 'locker-city: %e s wall, %M KB peak RSS' /tmp/lockstep-bench run scenarios/bench/locker-city.yaml --out /tmp/lockstep-bench-out --quiet >/dev/null

[ "$quick" = quick ] && exit 0

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
