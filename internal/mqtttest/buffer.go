package mqtttest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that goroutines may write concurrently: the
// log or output of a broker, client or command running beside a test.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
