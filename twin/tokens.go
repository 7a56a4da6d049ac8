package twin

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/provenance"
)

// Provenance tokens (package provenance) for the twin's labels.
//
// With a signing key the API serves GET /v1/labels/{id}/token for a
// finished label; with a directory too (lockstep twin --tokens DIR
// --tokens-key FILE) the twin writes each label's token to DIR when it
// finishes (picked up, returned or cancelled). The driver only copies the
// finished label's custody (a few strings per transition) onto a queue; one
// goroutine signs and writes, so the core's hot path never signs or touches
// the disk. Each token is written durably: to a temporary file, synced,
// renamed to DIR/<label>.token, and the directory synced. A label that
// finishes again when a restart re-applies the journal is written again
// with the same bytes (the encoding is canonical and Ed25519
// deterministic). Before each state snapshot and at the end the queue is
// drained (Tokens.Flush), so a restart from a snapshot never skips a token
// still queued.

// TokensQueue is how many finished labels may wait for signing before the
// driver waits for the writer (never dropped).
const TokensQueue = 4096

// TokensConfig configures provenance tokens.
type TokensConfig struct {
	// Key signs the tokens (nil: no tokens).
	Key ed25519.PrivateKey
	// Dir, if set, receives a token file per finished label (created 0755
	// if missing).
	Dir    string
	Logger *slog.Logger
}

// Tokens signs custody and writes token files off the driver's path.
type Tokens struct {
	key ed25519.PrivateKey
	id  provenance.KeyID
	dir string
	log *slog.Logger

	jobs chan provenance.Custody
	// sendMu is held (read) while the driver queues a job and (write) while
	// Close closes the queue.
	sendMu sync.RWMutex
	mu     sync.Mutex
	cond   *sync.Cond
	// pending counts queued and in-progress jobs; err is the first write
	// failure (returned by Flush and Close).
	pending int
	written uint64
	err     error
	closed  bool
	done    chan struct{}
}

// NewTokens returns a token signer (and writer, with cfg.Dir).
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("twin: tokens: no Ed25519 signing key")
	}
	t := &Tokens{key: cfg.Key, id: provenance.IDOf(cfg.Key.Public().(ed25519.PublicKey)), dir: cfg.Dir, log: logger(cfg.Logger)}
	t.cond = sync.NewCond(&t.mu)
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("twin: tokens: %w", err)
		}
		t.jobs = make(chan provenance.Custody, TokensQueue)
		t.done = make(chan struct{})
		go t.loop()
	}
	return t, nil
}

// KeyID is the signing key's id.
func (t *Tokens) KeyID() provenance.KeyID { return t.id }

// Sign returns c's token.
func (t *Tokens) Sign(c provenance.Custody) (string, error) { return provenance.Sign(t.key, c) }

// finished queues a finished label's custody for writing (no-op without a
// directory).
func (t *Tokens) finished(c provenance.Custody) {
	if t.jobs == nil {
		return
	}
	t.sendMu.RLock()
	defer t.sendMu.RUnlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.pending++
	t.mu.Unlock()
	t.jobs <- c
}

func (t *Tokens) loop() {
	defer close(t.done)
	for c := range t.jobs {
		err := t.write(c)
		t.mu.Lock()
		t.pending--
		if err != nil {
			if t.err == nil {
				t.err = err
			}
			t.log.Error("provenance token not written", "label", c.Label, "err", err)
		} else {
			t.written++
		}
		t.cond.Broadcast()
		t.mu.Unlock()
	}
}

// write signs c and writes DIR/<label>.token durably.
func (t *Tokens) write(c provenance.Custody) error {
	tok, err := t.Sign(c)
	if err != nil {
		return err
	}
	path := filepath.Join(t.dir, TokenFileName(c.Label))
	tmp, err := os.CreateTemp(t.dir, ".token-*")
	if err != nil {
		return fmt.Errorf("twin: tokens: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("twin: tokens: %w", err)
	}
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		return fmt.Errorf("twin: tokens: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("twin: tokens: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("twin: tokens: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("twin: tokens: %w", err)
	}
	ok = true
	if d, err := os.Open(t.dir); err == nil { // make the rename durable
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("twin: tokens: sync %s: %w", t.dir, err)
		}
	}
	return nil
}

// Flush waits until every queued token is written and returns the first
// write error so far.
func (t *Tokens) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.pending > 0 {
		t.cond.Wait()
	}
	return t.err
}

// Written is the number of token files written.
func (t *Tokens) Written() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.written
}

// Close writes what is queued, stops the writer and returns the first write
// error. Later finished labels are not written.
func (t *Tokens) Close() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	if t.closed {
		err := t.err
		t.mu.Unlock()
		return err
	}
	t.closed = true
	t.mu.Unlock()
	if t.jobs != nil {
		t.sendMu.Lock()
		close(t.jobs)
		t.sendMu.Unlock()
		<-t.done
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// TokenFileName is the file a label's token is written to: the label id
// with every byte outside [A-Za-z0-9._-] (and a leading '.') written as
// %XX, then ".token".
func TokenFileName(label string) string {
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String() + ".token"
}

// custody is a core label's custody with production's label id, real
// instants and node ids.
func (d *Driver) custody(l *model.Label, name string) provenance.Custody {
	c := provenance.FromLabel(l, name, d.NodeName, d.real)
	c.Box = l.Box.String() // the reusable box ("" for single-use)
	return c
}

// tokenFinished hands a finished label to the token writer.
func (d *Driver) tokenFinished(l *model.Label) {
	if lr := d.labels[l.ID]; lr != nil {
		d.cfg.Tokens.finished(d.custody(l, lr.name))
	}
}

// LabelToken returns the provenance token of a finished label (name is
// production's id): ok false for an unknown (or forgotten) label, finished
// false (and its state) for one still in flight. The custody is copied
// under the twin's lock; it is signed outside it.
func (t *Twin) LabelToken(name string) (token, state string, finished, ok bool, err error) {
	tk := t.cfg.Tokens
	if tk == nil {
		return "", "", false, false, errors.New("twin: provenance tokens are off (start the twin with --tokens-key FILE)")
	}
	t.mu.Lock()
	d := t.drv
	id, known := d.labelIDs[name]
	var l *model.Label
	if known {
		l, _, _ = d.CoreLabel(id)
	}
	if l == nil {
		t.mu.Unlock()
		return "", "", false, false, nil
	}
	state = l.State.String()
	if !l.State.Terminal() {
		t.mu.Unlock()
		return "", state, false, true, nil
	}
	c := d.custody(l, name)
	t.mu.Unlock()
	token, err = tk.Sign(c)
	return token, state, true, true, err
}

// TokenView is the API's answer for a finished label's token.
type TokenView struct {
	Label string `json:"label"`
	State string `json:"state"`
	KeyID string `json:"key_id"`
	Token string `json:"token"`
}

// tokenRoute serves GET /v1/labels/{id}/token: 200 with the token of a
// finished label, 404 for an unknown (or forgotten) label, 409 for a label
// still in flight, 501 when the twin has no signing key.
func tokenRoute(mux *routes, t *Twin) {
	mux.HandleFunc("GET /v1/labels/{id}/token", func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("id")
		if t.cfg.Tokens == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "provenance tokens are off (start the twin with --tokens-key FILE)"})
			return
		}
		tok, state, finished, ok, err := t.LabelToken(name)
		switch {
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		case !ok:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown label"})
		case !finished:
			writeJSON(w, http.StatusConflict, map[string]string{"error": "label not finished: a token covers a finished label's whole custody", "state": state})
		default:
			writeJSON(w, 200, TokenView{Label: name, State: state, KeyID: t.cfg.Tokens.KeyID().String(), Token: tok})
		}
	})
}
