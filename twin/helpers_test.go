package twin

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// MetricValue is metricValue for package twin_test.
var MetricValue = metricValue

// metricValue reads a counter or gauge (MetricValue for the external tests).
func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var out dto.Metric
	require.NoError(t, (<-ch).Write(&out))
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// ObserveAll is observeAll for package twin_test.
var ObserveAll = observeAll

// observeAll is everything a twin shows: its report and label states,
// counters, gaps, quarantine, anomalies, nodes and clock.
func observeAll(t testing.TB, tw *Twin) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, tw.WriteReport(&b))
	require.NoError(t, tw.WriteStates(&b))
	enc := json.NewEncoder(&b)
	for _, v := range []any{tw.Counters(), tw.Gaps(), tw.Quarantine(), tw.Anomalies(), tw.Nodes(), tw.Clock()} {
		require.NoError(t, enc.Encode(v))
	}
	return b.String()
}
