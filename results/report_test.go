package results

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReport(t *testing.T) {
	tests := []struct {
		name       string
		runs       []RunResult
		comparison bool
	}{
		{"three scenarios", threeScenarios(), true},
		{"one scenario", threeScenarios()[:1], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, err := WriteReport(dir, tc.runs, nil)
			require.NoError(t, err)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			html := string(b)

			names, err := plotNames(tc.runs)
			require.NoError(t, err)
			assert.Equal(t, len(names), strings.Count(html, "<img ")+strings.Count(html, "<svg"), "every plot embedded")
			for _, n := range names {
				assert.Contains(t, html, `id="plot-`+n+`"`)
			}
			assert.Equal(t, len(names), strings.Count(html, `src="data:image/png;base64,`))
			assert.Equal(t, len(names), strings.Count(html, "<figcaption>"))

			for _, h := range []string{"<h2>Scenarios</h2>", "<h2>Summary</h2>", "<h2>Plots</h2>", "<h2>Nodes</h2>"} {
				assert.Contains(t, html, h)
			}
			assert.Equal(t, len(tc.runs), strings.Count(html, `<table class="summary"`), "one summary table per scenario")
			assert.Equal(t, len(tc.runs), strings.Count(html, `<table class="nodes"`))
			for _, r := range tc.runs {
				assert.Contains(t, html, `data-scenario="`+r.Scenario+`"`)
			}
			if tc.comparison {
				assert.Contains(t, html, "<h2>Comparison</h2>")
				assert.Equal(t, 1, strings.Count(html, `<table class="comparison"`))
				assert.Contains(t, html, `class="v-better"`)
				assert.Contains(t, html, `class="v-worse"`)
			} else {
				assert.NotContains(t, html, "<h2>Comparison</h2>")
			}

			// self-contained: nothing to fetch
			assert.NotRegexp(t, regexp.MustCompile(`(?i)https?://`), html)
			assert.NotRegexp(t, regexp.MustCompile(`(?i)<(script|link)\b`), html)
			assert.NotContains(t, html, "@import")
			assert.NotContains(t, html, "ZgotmplZ", "html/template rejected a value")

			again, err := RenderReport(tc.runs, nil)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(b, again), "report is deterministic")
		})
	}
}

func TestWriteReportWithGivenComparisonAndErrors(t *testing.T) {
	runs := threeScenarios()[:2]
	cmp, err := CompareRuns(runs)
	require.NoError(t, err)
	cmp.Notes = append(cmp.Notes, "hand-written note")
	b, err := RenderReport(runs, &cmp)
	require.NoError(t, err)
	assert.Contains(t, string(b), "hand-written note")

	_, err = WriteReport(t.TempDir(), nil, nil)
	assert.Error(t, err)
	_, err = RenderReport([]RunResult{runs[0], runs[0]}, nil)
	assert.ErrorContains(t, err, "appears twice")
}
