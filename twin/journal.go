package twin

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

var (
	bucketJournal = []byte("journal")
	bucketMeta    = []byte("meta")
	keyNetwork    = []byte("network")
	bucketSnap    = []byte("snapshot")
	keySnapPos    = []byte("position")
	keySnapState  = []byte("state")
)

// Journal is the durable, append-only log of every received message (valid
// or not), in receive order, in a bbolt file. The twin's state is a pure
// function of it: on restart the runner restores the latest snapshot (the
// state after the first pos records, stored in the same file) and re-applies
// the records after it, or the whole journal when there is none. A payload
// is kept whole up to wire.MaxPayload, the most the twin accepts; of a
// larger one (quarantined as too_large) the journal keeps its first
// wire.MaxPayload bytes, its length and its SHA-256, which is all the twin
// keeps of it, so a record never exceeds 64 KiB and some bytes.
type Journal struct {
	db   *bolt.DB
	next uint64
}

// OpenJournal opens (or creates) the journal in dir. With sync false the
// file is not fsynced on every commit: a killed process loses nothing (the
// pages are in the OS page cache), a power cut may lose the last commits.
func OpenJournal(dir string, sync bool) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("twin: journal: %w", err)
	}
	path := filepath.Join(dir, "journal.db")
	db, err := bolt.Open(path, 0o640, &bolt.Options{Timeout: 5 * time.Second, NoSync: !sync, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("twin: journal %s: %w", path, err)
	}
	j := &Journal{db: db}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJournal)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketMeta); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketSnap); err != nil {
			return err
		}
		if k, _ := b.Cursor().Last(); k != nil {
			j.next = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("twin: journal %s: %w", path, err)
	}
	return j, nil
}

// CheckNetwork records the network file's digest on first use and refuses
// a journal written for another network (its replay would mean nothing).
func (j *Journal) CheckNetwork(digest string) error {
	return j.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if old := m.Get(keyNetwork); old != nil {
			if string(old) != digest {
				return errors.New("twin: the journal in --data was written for another network file; use a fresh --data directory")
			}
			return nil
		}
		return m.Put(keyNetwork, []byte(digest))
	})
}

// Len is the number of records in the journal.
func (j *Journal) Len() uint64 { return j.next }

// Append writes records in one transaction (committed, and fsynced unless
// opened without sync, before it returns).
func (j *Journal) Append(recs ...wire.CaptureRecord) error {
	if len(recs) == 0 {
		return nil
	}
	n := j.next
	err := j.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJournal)
		var key [8]byte
		for _, r := range recs {
			n++
			binary.BigEndian.PutUint64(key[:], n)
			if err := b.Put(key[:], encodeRecord(r)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("twin: journal append: %w", err)
	}
	j.next = n
	return nil
}

// ReplayFrom calls fn with every record after the first pos, in order. Of
// a payload larger than wire.MaxPayload, the record holds the prefix the
// journal kept.
func (j *Journal) ReplayFrom(pos uint64, fn func(wire.CaptureRecord)) error {
	return j.replay(pos, func(r wire.CaptureRecord, _ *payloadDigest) { fn(r) })
}

// replay is ReplayFrom; full is set for a record the journal kept only a
// prefix of: the whole payload's length and SHA-256.
func (j *Journal) replay(pos uint64, fn func(r wire.CaptureRecord, full *payloadDigest)) error {
	return j.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJournal).Cursor()
		var from [8]byte
		binary.BigEndian.PutUint64(from[:], pos+1)
		for k, v := c.Seek(from[:]); k != nil; k, v = c.Next() {
			r, full, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("twin: journal record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			fn(r, full)
		}
		return nil
	})
}

// SaveSnapshot stores a snapshot of the state reached after the first pos
// records, replacing the previous one, in one transaction: a crash leaves
// either the old snapshot or the new one.
func (j *Journal) SaveSnapshot(pos uint64, state []byte) error {
	if pos > j.next {
		return fmt.Errorf("twin: snapshot at record %d, but the journal holds %d", pos, j.next)
	}
	err := j.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnap)
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], pos)
		if err := b.Put(keySnapState, state); err != nil {
			return err
		}
		return b.Put(keySnapPos, p[:])
	})
	if err != nil {
		return fmt.Errorf("twin: save snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot returns the stored snapshot and the number of journal records
// it covers; ok is false when there is none.
func (j *Journal) LoadSnapshot() (pos uint64, state []byte, ok bool, err error) {
	err = j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnap)
		p, s := b.Get(keySnapPos), b.Get(keySnapState)
		if p == nil || s == nil {
			return nil
		}
		if len(p) != 8 {
			return errors.New("corrupt snapshot position")
		}
		pos, state, ok = binary.BigEndian.Uint64(p), append([]byte(nil), s...), true
		return nil
	})
	if err != nil {
		return 0, nil, false, fmt.Errorf("twin: load snapshot: %w", err)
	}
	if ok && pos > j.next {
		return 0, nil, false, fmt.Errorf("twin: the snapshot covers %d records but the journal holds %d", pos, j.next)
	}
	return pos, state, ok, nil
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.db.Close() }

// A record's flags.
const (
	recRetain = 1 << 0 // delivered from the broker's retained store
	// recPrefix: the payload was larger than wire.MaxPayload; the record
	// holds its length and SHA-256, then its first wire.MaxPayload bytes.
	recPrefix = 1 << 1
)

// record: recv_at int64 | flags byte | topic length uint16 | topic |
// [payload length uint64 | SHA-256, with recPrefix] | payload (or its prefix).
// Journals written before recPrefix existed are read the same.
func encodeRecord(r wire.CaptureRecord) []byte {
	p, flags, head := r.Payload, byte(0), 0
	if r.Retain {
		flags |= recRetain
	}
	if len(p) > wire.MaxPayload {
		flags |= recPrefix
		p, head = p[:wire.MaxPayload], 8+sha256.Size
	}
	b := make([]byte, 11+len(r.Topic)+head+len(p))
	binary.BigEndian.PutUint64(b, uint64(r.RecvAt))
	b[8] = flags
	binary.BigEndian.PutUint16(b[9:], uint16(len(r.Topic)))
	o := 11 + copy(b[11:], r.Topic)
	if head > 0 {
		binary.BigEndian.PutUint64(b[o:], uint64(len(r.Payload)))
		sum := sha256.Sum256(r.Payload)
		o += 8 + copy(b[o+8:], sum[:])
	}
	copy(b[o:], p)
	return b
}

func decodeRecord(b []byte) (wire.CaptureRecord, *payloadDigest, error) {
	if len(b) < 11 {
		return wire.CaptureRecord{}, nil, errors.New("short record")
	}
	flags, n := b[8], int(binary.BigEndian.Uint16(b[9:]))
	if len(b) < 11+n {
		return wire.CaptureRecord{}, nil, errors.New("short topic")
	}
	r := wire.CaptureRecord{RecvAt: model.Instant(binary.BigEndian.Uint64(b)), Retain: flags&recRetain != 0, Topic: string(b[11 : 11+n])}
	o := 11 + n
	var full *payloadDigest
	if flags&recPrefix != 0 {
		if len(b) < o+8+sha256.Size {
			return wire.CaptureRecord{}, nil, errors.New("short payload digest")
		}
		full = &payloadDigest{size: int(binary.BigEndian.Uint64(b[o:]))}
		o += 8 + copy(full.sum[:], b[o+8:])
	}
	r.Payload = append([]byte(nil), b[o:]...)
	return r, full, nil
}
