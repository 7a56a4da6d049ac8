package results

import (
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

	var runURL func(t *testing.T, u string, args ...string) []byte
	run := func(t *testing.T, args ...string) []byte { t.Helper(); return runURL(t, url, args...) }
	runURL = func(t *testing.T, url string, args ...string) []byte {
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

	// layout: at a 1400 px window the page never scrolls sideways (wide
	// tables scroll inside their own wrapper), and the decision comes first.
	// A copy of the report gets a script that measures the page after
	// layout; a control copy with a 3000 px wide block proves the check sees
	// an overflow.
	t.Run("layout", func(t *testing.T) {
		runs := threeScenarios()
		for i := range runs { // long names and many nodes make wide tables
			runs[i].Scenario += "-with-a-rather-long-descriptive-scenario-name"
		}
		html, err := RenderReport(runs, nil)
		require.NoError(t, err)
		measure := `<script>document.body.setAttribute("data-layout", JSON.stringify({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth, first: document.querySelector("main section").id}));</script></body>`
		page := func(name, extra string) string {
			p := filepath.Join(dir, name)
			b := strings.Replace(string(html), "</body>", extra+measure, 1)
			require.NoError(t, os.WriteFile(p, []byte(b), 0o644))
			return "file://" + filepath.ToSlash(p)
		}
		layout := func(u string) (sw, cw int, first string) {
			dom := string(runURL(t, u, "--dump-dom", "--window-size=1400,900", "--hide-scrollbars"))
			m := regexp.MustCompile(`data-layout="\{&quot;sw&quot;:(\d+),&quot;cw&quot;:(\d+),&quot;first&quot;:&quot;(\w+)&quot;\}"`).FindStringSubmatch(dom)
			require.NotNil(t, m, "layout attribute not found")
			sw, _ = strconv.Atoi(m[1])
			cw, _ = strconv.Atoi(m[2])
			return sw, cw, m[3]
		}
		sw, cw, first := layout(page("layout.html", ""))
		assert.Equal(t, 1400, cw, "viewport width")
		assert.LessOrEqual(t, sw, cw, "the page overflows horizontally at 1400 px")
		assert.Equal(t, "decision", first, "the decision is the first section")
		sw, cw, _ = layout(page("overflow.html", `<div style="width:3000px">wide</div>`))
		assert.Greater(t, sw, cw, "the control page must overflow")
	})

	t.Run("dom", func(t *testing.T) {
		dom := string(run(t, "--dump-dom"))
		for _, want := range []string{"<h2>Decision</h2>", `class="verdicts"`, "<h2>Scenarios</h2>", "<h2>Summary</h2>", "<h2>Comparison</h2>", "<h2>Plots</h2>",
			"lockstep report — ttl-6h vs ttl-12h vs more-lockers", "pickup_success_rate", `class="comparison"`} {
			assert.Contains(t, dom, want)
		}
		assert.Equal(t, 11, strings.Count(dom, "<img "), "all figures in the DOM")
	})
}
