package twin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// ReadJournal opens the journal in dir read-only (it is never created or
// changed: `lockstep fit` reads a twin's journal, possibly while the twin
// is stopped) and calls fn with every record in receive order. It returns
// the network digest the journal was written for ("" if none was recorded),
// so a reader can refuse a journal of another network. A journal still open
// by a running twin is locked: ReadJournal then fails after a few seconds.
func ReadJournal(dir string, fn func(wire.CaptureRecord)) (digest string, err error) {
	path := filepath.Join(dir, "journal.db")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("twin: journal: no journal in %s: %w", dir, err)
	}
	db, err := bolt.Open(path, 0o640, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return "", fmt.Errorf("twin: journal %s (a running twin holds it locked: stop it or copy the directory): %w", path, err)
	}
	defer db.Close()
	j := &Journal{db: db}
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || tx.Bucket(bucketJournal) == nil {
			return errors.New("not a twin journal (no journal or meta bucket)")
		}
		digest = string(m.Get(keyNetwork))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("twin: journal %s: %w", path, err)
	}
	return digest, j.ReplayFrom(0, fn)
}
