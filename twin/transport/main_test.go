package transport

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of a child process started by startChild: the test binary
// runs childSubscriber instead of the tests.
const (
	childEnv        = "LOCKSTEP_TRANSPORT_CHILD" // the broker URL
	childIDEnv      = "LOCKSTEP_TRANSPORT_CHILD_ID"
	childJournalEnv = "LOCKSTEP_TRANSPORT_CHILD_JOURNAL"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(childSubscriber(url, os.Getenv(childIDEnv), os.Getenv(childJournalEnv)))
	}
	os.Exit(m.Run())
}

// childSubscriber is a twin in miniature: it subscribes with a stable
// client id and appends every message to a journal file before its handler
// returns (so before the PUBACK). It prints "ready" once subscribed and
// runs until killed.
func childSubscriber(url, id, journal string) int {
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store := func(m Message) error {
		_, err := f.Write(append(m.Payload, '\n')) // one write: whole line or nothing
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Dial(ctx, ClientConfig{URL: url, ClientID: id, ReconnectDelay: 20 * time.Millisecond,
		Subscriptions: []Subscription{{Filter: "lockstep/v1/lockers/+/event", QoS: 1, Handler: store}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	select {}
}

// startChild runs childSubscriber in a new process and waits until it has
// subscribed.
func startChild(t *testing.T, url, id, journal string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+url, childIDEnv+"="+id, childJournalEnv+"="+journal)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		require.Equal(t, "ready\n", line, "child subscriber did not start")
	case <-time.After(20 * time.Second):
		t.Fatal("child subscriber not ready")
	}
	return cmd
}

// readJournal counts the complete lines of a child's journal file.
func readJournal(t *testing.T, path string) map[string]int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	s := string(raw)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i] // a line cut by the kill is not complete
	} else {
		s = ""
	}
	seen := map[string]int{}
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" {
			seen[l]++
		}
	}
	return seen
}

// TestSubscriberProcessKilled is TestPersistentSessionSurvivesCrash with a
// real crash: the subscriber is a child process killed with SIGKILL while
// 3000 messages are published, and a new process with the same client id
// finds in its session what the broker queued meanwhile. Its journal ends
// with every message.
func TestSubscriberProcessKilled(t *testing.T) {
	const n = 3000
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			url := b.start(t)
			journal := t.TempDir() + "/journal"
			id := uniqueID("twin")
			child := startChild(t, url, id, journal)
			pub := dial(t, ClientConfig{URL: url, ReconnectDelay: 20 * time.Millisecond})
			p := startProducer(t, pub, sessionTopic, n)
			require.Eventually(t, func() bool { return len(readJournal(t, journal)) >= n/3 }, 30*time.Second, 5*time.Millisecond)
			require.NoError(t, child.Process.Signal(syscall.SIGKILL))
			_ = child.Wait()
			at := p.acked.Load()
			p.waitAcked(t, at+200) // published while nobody is connected

			startChild(t, url, id, journal)
			p.wait(t)
			require.Eventually(t, func() bool { return len(readJournal(t, journal)) == n }, 30*time.Second, 10*time.Millisecond,
				"the journal holds every message")
			seen := readJournal(t, journal)
			dups := 0
			for i := 1; i <= n; i++ {
				assert.Positive(t, seen[msg(i)], "message %d lost", i)
				dups += seen[msg(i)] - 1
			}
			t.Logf("%d distinct, %d duplicates (redelivered after the kill)", len(seen), dups)
		})
	}
}
