package hwsim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/transport"
)

// BenchmarkPublishMax publishes the quickstart scenario (3 simulated days,
// about 10 600 messages) to the embedded broker with --speed max and the
// default ordering bound (DefaultMaxSkew), and reports the publish rate in
// msgs/s (simulation, encoding and QoS 1 acknowledgements included).
func BenchmarkPublishMax(b *testing.B) {
	ctx := context.Background()
	br, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(b, err)
	defer br.Close()
	cfg := loadSim(b, "../scenarios/quickstart.yaml")
	var msgs uint64
	var elapsed time.Duration
	b.ResetTimer()
	for b.Loop() {
		_, st, err := Run(ctx, RunConfig{Gen: Config{Sim: cfg}, Dial: func(ctx context.Context) (Conn, error) {
			return transport.Dial(ctx, transport.ClientConfig{URL: br.URL()})
		}})
		require.NoError(b, err)
		msgs += st.Published
		elapsed += st.Elapsed
	}
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkGenerate is the generator alone (simulation and encoding, no broker).
func BenchmarkGenerate(b *testing.B) {
	cfg := loadSim(b, "../scenarios/quickstart.yaml")
	var msgs int
	start := time.Now()
	for b.Loop() {
		items, _, _, err := Generate(Config{Sim: cfg})
		require.NoError(b, err)
		msgs += len(items)
	}
	b.ReportMetric(float64(msgs)/time.Since(start).Seconds(), "msgs/s")
}
