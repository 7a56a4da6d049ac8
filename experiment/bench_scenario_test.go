package experiment

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkScenario runs one replication per iteration of the scenario
// file named by LOCKSTEP_BENCH_SCENARIO, reporting what the bench
// scenarios report (benchScenario); skipped when it is unset.
// scripts/bench.sh pair runs it from two revisions side by side.
func BenchmarkScenario(b *testing.B) {
	path := os.Getenv("LOCKSTEP_BENCH_SCENARIO")
	if path == "" {
		b.Skip("set LOCKSTEP_BENCH_SCENARIO to a scenario file")
	}
	benchScenario(b, path)
}

// scripts/bench.sh teaches its modes and refuses a pair without two
// revisions, with a usage line and exit status 2, before building
// anything.
func TestBenchScriptUsage(t *testing.T) {
	run := func(args ...string) (string, int) {
		cmd := exec.Command("bash", append([]string{"../scripts/bench.sh"}, args...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return string(out), code
	}
	out, code := run("--help")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "scripts/bench.sh pair REV_A REV_B [SCENARIO] [PAIRS]")
	out, code = run("pair", "main")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "usage: scripts/bench.sh pair")
	out, code = run("nonsense")
	require.Equal(t, 2, code, out)
}
