package twin

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lockstep-sim/lockstep/model"
)

// Metrics are the twin's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry    *prometheus.Registry
	In          *prometheus.CounterVec
	Quarantined *prometheus.CounterVec
	Rejected    *prometheus.CounterVec
	Divergences *prometheus.CounterVec
	Anomalies   *prometheus.CounterVec
	Late        prometheus.Counter
	Duplicates  prometheus.Counter
	Conflicts   prometheus.Counter
	Missing     prometheus.Gauge
	Labels      prometheus.Gauge
	Forgotten   prometheus.Counter
	Held        prometheus.Gauge
	Latency     prometheus.Histogram
	// snapshots (Runner)
	Snapshots        *prometheus.CounterVec
	SnapshotSeconds  prometheus.Gauge
	SnapshotBytes    prometheus.Gauge
	SnapshotPosition prometheus.Gauge

	mu    sync.Mutex
	cache map[string]prometheus.Counter
}

// NewMetrics registers the twin's metrics on a new registry (plus the Go
// and process collectors).
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), cache: map[string]prometheus.Counter{}}
	m.In = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_messages_total", Help: "Accepted feed messages by type."}, []string{"type"})
	m.Quarantined = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_quarantined_total", Help: "Quarantined messages by reason."}, []string{"reason"})
	m.Rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_core_rejected_total", Help: "Events the core rejected, by reason."}, []string{"reason"})
	m.Divergences = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_divergences_total", Help: "Divergences between production and the core, by kind."}, []string{"kind"})
	m.Anomalies = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_anomalies_total",
		Help: "Accepted messages about what the twin does not know (a label it never saw ordered), by reason."}, []string{"reason"})
	m.Late = prometheus.NewCounter(prometheus.CounterOpts{Name: "lockstep_twin_late_total", Help: "Messages later than the reorder window (applied out of order)."})
	m.Duplicates = prometheus.NewCounter(prometheus.CounterOpts{Name: "lockstep_twin_duplicates_total", Help: "Duplicate messages dropped (msg_id seen with the same payload, or source/seq seen)."})
	m.Conflicts = prometheus.NewCounter(prometheus.CounterOpts{Name: "lockstep_twin_conflicts_total",
		Help: "Messages quarantined because their msg_id was accepted with another payload, or their source/seq with another msg_id."})
	m.Missing = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_sequence_gaps", Help: "Sequence numbers never received (lost messages), over all sources."})
	m.Labels = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_labels", Help: "Labels held in memory (live, plus finished ones within --label-retention)."})
	m.Forgotten = prometheus.NewCounter(prometheus.CounterOpts{Name: "lockstep_twin_labels_forgotten_total", Help: "Finished labels released after --label-retention."})
	m.Held = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_reorder_held",
		Help: "Messages waiting in the reorder buffer (for the window, the receive clock and the current sources)."})
	m.Latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lockstep_twin_processing_seconds",
		Help:    "Wall time from receipt to application to the core (includes the reorder window in live mode).",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 14)})
	m.Snapshots = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lockstep_twin_snapshots_total", Help: "State snapshots written, by result (ok, failed)."}, []string{"result"})
	m.SnapshotSeconds = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_snapshot_seconds", Help: "Time the last snapshot took (ingest pauses meanwhile)."})
	m.SnapshotBytes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_snapshot_bytes", Help: "Size of the last snapshot."})
	m.SnapshotPosition = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockstep_twin_snapshot_records", Help: "Journal records covered by the last snapshot (a restart re-applies the rest)."})
	for r := range model.Reason(255) {
		if r.Rejection() { // every reason shows, at 0 until it happens
			m.Rejected.WithLabelValues(r.String())
		}
	}
	m.Registry.MustRegister(m.In, m.Quarantined, m.Rejected, m.Divergences, m.Anomalies, m.Late, m.Duplicates, m.Conflicts, m.Missing, m.Labels, m.Forgotten, m.Held, m.Latency,
		m.Snapshots, m.SnapshotSeconds, m.SnapshotBytes, m.SnapshotPosition,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) counter(vec *prometheus.CounterVec, prefix, v string) prometheus.Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := prefix + v
	c, ok := m.cache[k]
	if !ok {
		c = vec.WithLabelValues(v)
		m.cache[k] = c
	}
	return c
}

func (m *Metrics) in(typ string)        { m.counter(m.In, "i", typ).Inc() }
func (m *Metrics) quarantined(r string) { m.counter(m.Quarantined, "q", r).Inc() }
func (m *Metrics) rejected(r string)    { m.counter(m.Rejected, "r", r).Inc() }
func (m *Metrics) diverged(kind string) { m.counter(m.Divergences, "d", kind).Inc() }
func (m *Metrics) anomaly(r string)     { m.counter(m.Anomalies, "a", r).Inc() }

// restored adds the counts of a restored snapshot, so the counters read as
// if the journal's prefix had been re-applied.
func (m *Metrics) restored(c *Counters) {
	for k, v := range c.ByType {
		m.counter(m.In, "i", k).Add(float64(v))
	}
	for k, v := range c.Quarantined {
		m.counter(m.Quarantined, "q", k).Add(float64(v))
	}
	for k, v := range c.Rejected {
		m.counter(m.Rejected, "r", k).Add(float64(v))
	}
	for k, v := range c.Divergences {
		m.counter(m.Divergences, "d", k).Add(float64(v))
	}
	for k, v := range c.Anomalies {
		m.counter(m.Anomalies, "a", k).Add(float64(v))
	}
	m.Late.Add(float64(c.Late))
	m.Duplicates.Add(float64(c.Duplicates))
	m.Conflicts.Add(float64(c.Conflicts))
	m.Missing.Set(float64(c.Missing))
	m.Forgotten.Add(float64(c.Forgotten))
}

// snapshot records one snapshot attempt.
func (m *Metrics) snapshot(pos uint64, size int, took float64, err error) {
	if err != nil {
		m.Snapshots.WithLabelValues("failed").Inc()
		return
	}
	m.Snapshots.WithLabelValues("ok").Inc()
	m.SnapshotSeconds.Set(took)
	m.SnapshotBytes.Set(float64(size))
	m.SnapshotPosition.Set(float64(pos))
}
