package results

import (
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sim/lockstep/internal/testbin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium is headless Chromium (testbin.Chromium: LOCKSTEP_REQUIRE_CHROMIUM=1,
// which .ci/run sets, turns a missing browser into a failure instead of a skip).
var chromium = testbin.Chromium("the check that report.html renders in a browser")

// Without chromium: a skip that says how to install it (apt-get install -y
// chromium), or, with LOCKSTEP_REQUIRE_CHROMIUM=1 (CI), a failure.
func TestMissingChromium(t *testing.T) {
	require.Contains(t, chromium.Install, "apt-get install -y chromium")
	require.Equal(t, "LOCKSTEP_REQUIRE_CHROMIUM", chromium.Env)
	testbin.CheckMissing(t, &chromium, func(tb testing.TB) { chromium.Need(tb) })
}

// TestReportRendersInChromium opens the report in headless Chromium, offline,
// and checks the screenshot is a real page and the DOM holds the sections.
func TestReportRendersInChromium(t *testing.T) {
	chromiumPath := chromium.Need(t)
	dir := t.TempDir()
	path, err := WriteReport(dir, threeScenarios(), nil)
	require.NoError(t, err)
	url := "file://" + filepath.ToSlash(path)

	run := func(t *testing.T, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		profile := t.TempDir()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--user-data-dir=" + profile}
		cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), url)...)
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("chromium timed out after 60s; stderr:\n%s", stderr.String())
		}
		require.NoError(t, err, "chromium failed; stderr:\n%s", stderr.String())
		return out
	}

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "shot.png")
		run(t, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
		f, err := os.Open(shot)
		require.NoError(t, err)
		defer f.Close()
		img, err := png.Decode(f)
		require.NoError(t, err)
		assert.Equal(t, 1280, img.Bounds().Dx())
		assert.Equal(t, 2000, img.Bounds().Dy())
		assert.Greater(t, distinctColors(img), 50, "screenshot looks blank")
	})

	t.Run("dom", func(t *testing.T) {
		dom := string(run(t, "--dump-dom"))
		for _, want := range []string{"<h2>Scenarios</h2>", "<h2>Summary</h2>", "<h2>Comparison</h2>", "<h2>Plots</h2>",
			"lockstep report — ttl-6h vs ttl-12h vs more-lockers", "pickup_success_rate", `class="comparison"`} {
			assert.Contains(t, dom, want)
		}
		assert.Equal(t, 11, strings.Count(dom, "<img "), "all figures in the DOM")
	})
}
