package transport

import (
	"context"
	"testing"
	"time"
)

// BenchmarkPublishQoS1 measures QoS 1 publishes through the embedded broker
// to one subscriber; the time includes delivery of every message.
func BenchmarkPublishQoS1(b *testing.B) {
	br := startBroker(b, nil)
	sub := dial(b, ClientConfig{URL: br.URL()})
	pub := dial(b, ClientConfig{URL: br.URL()})
	ctx := context.Background()
	done := make(chan struct{}, 1)
	want := 0
	got := 0
	if err := sub.Subscribe(ctx, "bench/#", 1, func(Message) {
		got++
		if got == want {
			done <- struct{}{}
		}
	}); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 300) // about one envelope
	want = b.N
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := pub.Publish(ctx, "bench/scanners/s1/scan", payload, 1, false); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("delivered %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
