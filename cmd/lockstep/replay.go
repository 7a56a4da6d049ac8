package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// emptyReplay is the error of a twin --replay that read no capture record
// at all: an empty file, or one in which no line is a capture record (a
// truth file, a log, a pretty-printed JSON document). Replaying it would
// print a summary of zeros and exit 0, as if production had been quiet, so
// it is bad input instead, naming the file and the first line that is not
// a capture record. nil when st read at least one record.
func emptyReplay(path string, st twin.ReplayStats) error {
	if st.Records > 0 {
		return nil
	}
	const what = "a capture is the NDJSON of lockstep hwsim --capture (one JSON record per line, see docs/feed.md#capture-format)"
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--replay %s holds no capture line: %w", path, err)
	}
	defer fh.Close()
	cr := wire.NewCaptureReader(fh)
	var first *wire.CaptureError
	bad := 0
	for {
		_, err := cr.Next()
		var ce *wire.CaptureError
		switch {
		case errors.Is(err, io.EOF):
			if first == nil {
				empty := "the file is empty"
				if cr.Line() > 0 {
					empty = fmt.Sprintf("the file has only %d blank lines", cr.Line())
				}
				return fmt.Errorf("--replay %s holds no capture line: %s; %s", path, empty, what)
			}
			return fmt.Errorf("--replay %s holds no capture line: none of its %d non-blank lines is a capture record (first: %v); %s",
				path, bad, first, what)
		case errors.As(err, &ce):
			bad++
			if first == nil {
				first = ce
			}
		case err != nil:
			return fmt.Errorf("--replay %s: %w", path, err)
		default: // a record after all (the file changed since the replay)
			return nil
		}
	}
}
