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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestReportRendersInChromium opens the report in headless Chromium, offline,
// and checks the screenshot is a real page and the DOM holds the sections.
func TestReportRendersInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIPPED: %s not found; install the Debian package \"chromium\" (apt-get install -y chromium) to check the report renders in a browser", chromiumPath)
	}
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: starts a browser")
	}
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
		assert.Equal(t, 9, strings.Count(dom, "<img "), "all figures in the DOM")
	})
}
