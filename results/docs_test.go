package results

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docs/results.md documents every field of the files this package writes,
// every catalog metric, every compare.csv column and every plot.
func TestResultsDocCoversTheFiles(t *testing.T) {
	b, err := os.ReadFile("../docs/results.md")
	require.NoError(t, err)
	doc := string(b)
	code := func(s string) { assert.Contains(t, doc, "`"+s+"`", "docs/results.md does not mention `%s`", s) }
	for _, v := range []any{RunResult{}, Replication{}, TracePoint{}, DailyPoint{}, Histogram{}, NodeInfo{},
		MetricSummary{}, NodeMetricSummary{}, NeighborhoodMetricSummary{}, Summary{}, Comparison{}, MetricComparison{}, ScenarioStat{},
		ScenarioDiff{}, Difference{}, Headline{}, ParamDiff{}, MetricWinner{}, ScenarioMean{}, BiggestDifferences{},
		MetricChange{}, NodeReason{}, NodeChange{}, Selection{}, SelectionDesign{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if name, ok := jsonName(rt.Field(i)); ok {
				code(name)
			}
		}
	}
	for _, d := range Catalog {
		code(d.Name)
	}
	for _, c := range CompareCSVHeader {
		assert.Contains(t, doc, c, "compare.csv column")
	}
	for _, v := range []Verdict{VerdictBetter, VerdictWorse, VerdictNoSignificant, VerdictNotApplicable, VerdictInsufficientData} {
		code(string(v))
	}
	names, err := plotNames(threeScenarios())
	require.NoError(t, err)
	for _, n := range names {
		if strings.HasPrefix(n, "demand-") {
			n = "demand-<scenario>"
		}
		code(n)
	}
}
