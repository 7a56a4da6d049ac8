package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// shardReader streams the items of one shard file.
type shardReader struct {
	path string
	f    *os.File
	dec  *json.Decoder
	hdr  ShardHeader
	read int
}

// openShard reads a shard file's header and leaves the decoder at its first
// item.
func openShard(path string) (*shardReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &shardReader{path: path, f: f, dec: json.NewDecoder(bufio.NewReaderSize(f, 1<<16))}
	if err := r.readHeader(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not a complete lockstep shard file: %w", path, err)
	}
	return r, nil
}

func (r *shardReader) readHeader() error {
	if t, err := r.dec.Token(); err != nil {
		return err
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return errors.New("does not start with {")
	}
	fields := map[string]json.RawMessage{}
	for {
		t, err := r.dec.Token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return fmt.Errorf("unexpected %v", t)
		}
		if key == "items" {
			break
		}
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return err
		}
		fields[key] = raw
	}
	if f := fields["format"]; string(f) != `"`+ShardFormat+`"` {
		return fmt.Errorf("format is %s, this build reads %q", f, ShardFormat)
	}
	b, _ := json.Marshal(fields)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.hdr); err != nil {
		return err
	}
	if t, err := r.dec.Token(); err != nil {
		return err
	} else if d, ok := t.(json.Delim); !ok || d != '[' {
		return errors.New("items is not a list")
	}
	return nil
}

// next returns the shard's next item, which must be item k.
func (r *shardReader) next(k int) (Item, error) {
	if !r.dec.More() {
		return Item{}, fmt.Errorf("%s: ends after %d of its %d items (was the shard interrupted?)", r.path, r.read, r.hdr.ItemCount)
	}
	var it Item
	if err := r.dec.Decode(&it); err != nil {
		return Item{}, fmt.Errorf("%s: item %d: %w", r.path, r.read, err)
	}
	info := r.hdr.Sweep
	if it.Item != k || it.Point != k/info.Replications || it.Replication != k%info.Replications {
		return Item{}, fmt.Errorf("%s: expected work item %d next, found item %d (point %d, replication %d)", r.path, k, it.Item, it.Point, it.Replication)
	}
	r.read++
	return it, nil
}

// finish checks the shard holds nothing more and is complete JSON.
func (r *shardReader) finish() error {
	if r.dec.More() {
		return fmt.Errorf("%s: holds more items than its %d", r.path, r.hdr.ItemCount)
	}
	for _, want := range []json.Delim{']', '}'} {
		t, err := r.dec.Token()
		if err != nil {
			return fmt.Errorf("%s: truncated after its items: %w", r.path, err)
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return fmt.Errorf("%s: unexpected %v after its items", r.path, t)
		}
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: trailing data after the shard", r.path)
	}
	return nil
}

// ShardSet is a complete set of shard files of one sweep, ready to merge.
type ShardSet struct {
	Header  ShardHeader // of shard 0, with the shard fields cleared
	readers []*shardReader
}

// Close closes every file.
func (s *ShardSet) Close() error {
	var errs []error
	for _, r := range s.readers {
		errs = append(errs, r.f.Close())
	}
	return errors.Join(errs...)
}

// OpenShards opens shard files and checks they are exactly one complete set
// of one sweep: all from the same sweep definition (the same hash) and split
// into the same number of shards, every shard present exactly once. Every
// problem is reported, naming the files.
func OpenShards(paths []string) (*ShardSet, error) {
	if len(paths) == 0 {
		return nil, errors.New("no shard files given")
	}
	var errs []error
	var rs []*shardReader
	closeAll := func() {
		for _, r := range rs {
			r.f.Close()
		}
	}
	for _, p := range paths {
		r, err := openShard(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs = append(rs, r)
	}
	if len(errs) > 0 {
		closeAll()
		return nil, errors.Join(errs...)
	}
	ref := rs[0]
	for _, r := range rs[1:] {
		if r.hdr.DefinitionHash != ref.hdr.DefinitionHash {
			errs = append(errs, fmt.Errorf("%s is from a different sweep definition than %s (definition hash %s, not %s): base file, vary spec, replications or seed differ",
				r.path, ref.path, short(r.hdr.DefinitionHash), short(ref.hdr.DefinitionHash)))
		} else if r.hdr.Shards != ref.hdr.Shards {
			errs = append(errs, fmt.Errorf("%s is shard %d of %d, but %s is of %d: the sweep was split two ways", r.path, r.hdr.Shard, r.hdr.Shards, ref.path, ref.hdr.Shards))
		}
	}
	if len(errs) > 0 {
		closeAll()
		return nil, errors.Join(errs...)
	}
	n := ref.hdr.Shards
	byIndex := make([]*shardReader, n)
	for _, r := range rs {
		h := r.hdr
		if h.Shard < 0 || h.Shard >= n {
			errs = append(errs, fmt.Errorf("%s: shard index %d out of range 0..%d", r.path, h.Shard, n-1))
			continue
		}
		if want := (Shard{h.Shard, n}).ItemCount(h.Sweep.Items()); h.ItemCount != want {
			errs = append(errs, fmt.Errorf("%s: declares %d items, shard %d/%d of this sweep has %d", r.path, h.ItemCount, h.Shard, n, want))
		}
		if prev := byIndex[h.Shard]; prev != nil {
			errs = append(errs, fmt.Errorf("shard %d/%d given twice: %s and %s", h.Shard, n, prev.path, r.path))
			continue
		}
		byIndex[h.Shard] = r
	}
	var missing []string
	for i, r := range byIndex {
		if r == nil {
			missing = append(missing, fmt.Sprintf("%d/%d (%s)", i, n, Shard{i, n}.FileName()))
		}
	}
	if len(missing) > 0 {
		dirs := map[string]bool{}
		for _, r := range rs {
			dirs[filepath.Dir(r.path)] = true
		}
		ds := make([]string, 0, len(dirs))
		for d := range dirs {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		errs = append(errs, fmt.Errorf("missing %d of %d shards: %s (looked at files in %s)", len(missing), n, strings.Join(missing, ", "), strings.Join(ds, ", ")))
	}
	if len(errs) > 0 {
		closeAll()
		return nil, errors.Join(errs...)
	}
	hdr := ref.hdr
	hdr.Shard, hdr.Shards, hdr.ItemCount = 0, 0, 0
	return &ShardSet{Header: hdr, readers: byIndex}, nil
}

func short(h string) string {
	if len(h) > 19 {
		return h[:19] + "…"
	}
	return h
}

// Next returns work item k (items must be asked for in increasing order
// from 0): it lives in shard k mod N.
func (s *ShardSet) next(k int) (Item, error) {
	return s.readers[k%len(s.readers)].next(k)
}

// finish checks every shard was read to its end.
func (s *ShardSet) finish() error {
	var errs []error
	for _, r := range s.readers {
		errs = append(errs, r.finish())
	}
	return errors.Join(errs...)
}
