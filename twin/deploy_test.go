package twin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The Grafana dashboard and the Prometheus alerts under deploy/ use the
// twin's metrics by name; these tests keep the names from drifting.
const (
	dashboardFile = "../deploy/grafana/lockstep-twin-dashboard.json"
	alertsFile    = "../deploy/prometheus/lockstep-twin-alerts.yaml"
)

// notTwins are the metrics the files may use that Prometheus records
// itself, not the twin.
var notTwins = []string{"up"}

// exportedMetrics runs a twin through a feed that moves every metric it
// exports (messages, quarantine, duplicates, late, gaps, core rejections,
// divergences, labels forgotten, a snapshot, the API's own) and returns
// the metric families its /metrics serves, by name, with their types.
func exportedMetrics(t *testing.T) map[string]string {
	t.Helper()
	m := NewMetrics()
	no := false
	tw, err := New(Config{Network: quickstart(t), Window: opsWindow, Replenish: &no, Metrics: m, LabelRetention: model.Minute})
	require.NoError(t, err)
	j, err := OpenJournal(t.TempDir(), false)
	require.NoError(t, err)
	defer j.Close()
	r := NewRunner(tw, j)
	h := r.Handler(APIConfig{Metrics: m})

	f := newFeed(t)
	recs := f.lifecycle("L-A", 0, true) // picked up at minute 90
	recs = append(recs,
		recs[2], // a duplicate
		f.msg("scn-M1", min_(95), wire.Scan{LabelID: "L-A", OrderID: "OL-A", Node: "M1", Stage: wire.StagePick, Symbology: wire.SymCode128, Code: "L-A"}), // the core rejects it
		f.msg("prod-core", min_(100), wire.LabelState{LabelID: "L-A", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}),                           // a divergence
		wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("{"), RecvAt: min_(100)},                                                // quarantined
	)
	f.seq["M1"] = 5                                                                                                             // a gap
	recs = append(recs, f.msg("M1", min_(200), wire.Heartbeat{Session: 1}), f.msg("M1", min_(210), wire.Heartbeat{Session: 1}), // an hour on: L-A is forgotten
		f.msg("M1", min_(10), wire.Heartbeat{Session: 1})) // late
	require.NoError(t, r.Accept(recs...))
	require.NoError(t, r.Snapshot())
	c := tw.Counters()
	require.NotZero(t, c.Late)
	require.NotZero(t, c.Duplicates)
	require.NotZero(t, c.Forgotten)
	require.NotZero(t, c.Missing)
	require.NotEmpty(t, c.Rejected)
	require.NotEmpty(t, c.Divergences)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, w.Code)
	families := map[string]string{}
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	return families
}

// exported reports whether the series name (a histogram's _bucket, _sum,
// _count included) belongs to an exported family.
func exported(families map[string]string, name string) bool {
	if _, ok := families[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[base] == "histogram" {
			return true
		}
	}
	return false
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
)

// promqlMetrics returns the metric names a PromQL expression selects:
// the identifiers left once strings, label matchers, ranges and grouping
// clauses are dropped, that are neither functions, nor keywords, nor part
// of a number.
func promqlMetrics(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // 1e6
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function
		}
		if slices.Contains(promKeywords, strings.ToLower(name)) {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestPromQLMetrics(t *testing.T) {
	assert.Equal(t, []string{"a_bucket", "b_total", "c"}, promqlMetrics(
		`histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{x="y{z}", w=~"$job"}[$__rate_interval])))
		 / on (job) group_left (kind) sum without (kind) (b_total offset 5m) > 1e6 and bool c == Inf`))
}

// alertRules is a Prometheus rule file, read strictly.
type alertRules struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promDuration is Prometheus's duration syntax (e.g. 5m, 1h30m).
var promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

// TestDeployAlerts: the alert rules are valid YAML in Prometheus's
// rule-group shape (no unknown field, one alert or record per rule, an
// expression, durations, a severity, a summary and a description whose
// templates render) and use only metrics the twin exports.
func TestDeployAlerts(t *testing.T) {
	raw, err := os.ReadFile(alertsFile)
	require.NoError(t, err)
	var rules alertRules
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&rules))
	require.NotEmpty(t, rules.Groups)
	families := exportedMetrics(t)
	groups, alerts := map[string]bool{}, map[string]bool{}
	used := map[string]bool{}
	funcs := template.FuncMap{}
	for _, f := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "title", "toUpper", "toLower"} {
		funcs[f] = func(v any) string { return "x" }
	}
	for _, g := range rules.Groups {
		require.NotEmpty(t, g.Name)
		require.False(t, groups[g.Name], "group %s twice", g.Name)
		groups[g.Name] = true
		require.NotEmpty(t, g.Rules, g.Name)
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			t.Run(name, func(t *testing.T) {
				require.True(t, (r.Alert == "") != (r.Record == ""), "a rule is an alert or a record")
				require.NotEmpty(t, strings.TrimSpace(r.Expr))
				require.Equal(t, strings.Count(r.Expr, "("), strings.Count(r.Expr, ")"), "balanced parentheses")
				for _, d := range []string{r.For, r.KeepFiringFor, g.Interval} {
					if d != "" {
						assert.Regexp(t, promDuration, d)
					}
				}
				if r.Alert == "" {
					return
				}
				assert.Regexp(t, `^LockstepTwin[A-Z][A-Za-z]+$`, r.Alert)
				assert.False(t, alerts[r.Alert], "alert %s twice", r.Alert)
				alerts[r.Alert] = true
				assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"])
				for _, a := range []string{"summary", "description"} {
					text := r.Annotations[a]
					require.NotEmpty(t, text, a)
					// as Prometheus expands them
					tmpl, err := template.New(a).Funcs(funcs).Parse("{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}" + text)
					require.NoError(t, err, a)
					var out strings.Builder
					require.NoError(t, tmpl.Execute(&out, map[string]any{"Labels": map[string]string{"instance": "i", "kind": "k"},
						"ExternalLabels": map[string]string{}, "Value": 1.0}), a)
				}
				ms := promqlMetrics(r.Expr)
				require.NotEmpty(t, ms)
				for _, m := range ms {
					used[m] = true
					assert.True(t, exported(families, m) || slices.Contains(notTwins, m), "%s: the twin exports no metric %s", r.Alert, m)
				}
			})
		}
	}
	assert.GreaterOrEqual(t, len(used), 8, "the alerts cover the twin's metrics")
}

// grafanaPanel is what the test reads of a dashboard panel.
type grafanaPanel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a collapsed row's
}

// TestDeployDashboard: the Grafana dashboard is a dashboard (title, uid,
// unique panel ids on the grid, a Prometheus query per target, the
// datasource a variable) that queries only metrics the twin exports, in
// its panels and in its variables.
func TestDeployDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d struct {
		Title         string         `json:"title"`
		UID           string         `json:"uid"`
		SchemaVersion int            `json:"schemaVersion"`
		Panels        []grafanaPanel `json:"panels"`
		Templating    struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.Equal(t, "lockstep twin", d.Title)
	assert.Equal(t, "lockstep-twin", d.UID)
	assert.Positive(t, d.SchemaVersion)
	assert.NotContains(t, string(raw), "DS_PROMETHEUS", "the datasource is the dashboard's variable, not an import input")
	families := exportedMetrics(t)
	used := map[string]bool{}
	check := func(where, expr string) {
		ms := promqlMetrics(expr)
		require.NotEmpty(t, ms, "%s: %s", where, expr)
		for _, m := range ms {
			used[m] = true
			assert.True(t, exported(families, m), "%s: the twin exports no metric %s", where, m)
		}
	}
	ids := map[int]bool{}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			assert.False(t, ids[p.ID], "panel id %d twice", p.ID)
			ids[p.ID] = true
			require.NotNil(t, p.GridPos, p.Title)
			assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
			if p.Type != "row" {
				require.NotEmpty(t, p.Targets, p.Title)
			}
			for _, tg := range p.Targets {
				assert.NotEmpty(t, tg.RefID, p.Title)
				check(p.Title, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			m := labelValues.FindStringSubmatch(v.Definition)
			require.NotNil(t, m, "variable %s: %s", v.Name, v.Definition)
			check("variable "+v.Name, m[1])
		}
	}
	for _, m := range []string{"lockstep_twin_messages_total", "lockstep_twin_quarantined_total", "lockstep_twin_sequence_gaps",
		"lockstep_twin_late_total", "lockstep_twin_divergences_total", "lockstep_twin_labels", "lockstep_twin_ready"} {
		assert.True(t, used[m], "the dashboard shows %s", m)
	}
}
