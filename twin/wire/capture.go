package wire

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/lockstep-sim/lockstep/model"
)

// MaxCaptureLine is the longest capture line CaptureWriter writes and
// CaptureReader accepts by default, in bytes (newline excluded).
const MaxCaptureLine = 1 << 20

// CaptureRecord is one captured MQTT message: the topic and the payload
// exactly as received, valid or not.
type CaptureRecord struct {
	Topic   string
	Payload []byte
	// RecvAt is when the capturing client received the message (0: unknown).
	// The feed's own instants are in the payload; RecvAt only matters for
	// messages whose payload instant is not the event's (the last will).
	RecvAt model.Instant
	// Retain is true if the message was delivered as a retained message.
	Retain bool
}

// ErrLineTooLong is wrapped by the *CaptureError for a line longer than the limit.
var ErrLineTooLong = errors.New("capture line too long")

// CaptureError is a malformed capture line. The reader stays usable: the
// next call to Next continues with the following line.
type CaptureError struct {
	Line int // 1-based line number
	Err  error
}

func (e *CaptureError) Error() string {
	return "wire: capture line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}
func (e *CaptureError) Unwrap() error { return e.Err }

// CaptureWriter writes newline-delimited JSON capture records. It is safe
// for concurrent use; call Flush (or Close) before the underlying writer is
// closed.
type CaptureWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
}

// NewCaptureWriter returns a CaptureWriter writing to w.
func NewCaptureWriter(w io.Writer) *CaptureWriter {
	return &CaptureWriter{w: bufio.NewWriter(w)}
}

// embeddable reports whether p can be written as embedded JSON and read back
// byte for byte: a compact JSON object in valid UTF-8.
func embeddable(p []byte) bool {
	if len(p) == 0 || p[0] != '{' || !utf8.Valid(p) || !json.Valid(p) {
		return false
	}
	var c bytes.Buffer
	if err := json.Compact(&c, p); err != nil {
		return false
	}
	return bytes.Equal(c.Bytes(), p)
}

// AppendCaptureLine appends the capture line of r (with its newline) to dst.
func AppendCaptureLine(dst []byte, r CaptureRecord) ([]byte, error) {
	if !utf8.ValidString(r.Topic) || r.Topic == "" {
		return dst, errors.New("wire: capture: topic must be non-empty UTF-8")
	}
	start := len(dst)
	topic, _ := json.Marshal(r.Topic)
	dst = append(dst, `{"topic":`...)
	dst = append(dst, topic...)
	if r.RecvAt != 0 {
		dst = append(dst, `,"recv_at":"`...)
		dst = append(dst, FormatInstant(r.RecvAt)...)
		dst = append(dst, '"')
	}
	if r.Retain {
		dst = append(dst, `,"retain":true`...)
	}
	if embeddable(r.Payload) {
		dst = append(dst, `,"payload":`...)
		dst = append(dst, r.Payload...)
	} else {
		dst = append(dst, `,"payload_b64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.Payload)
		dst = append(dst, '"')
	}
	dst = append(dst, '}')
	if len(dst)-start > MaxCaptureLine {
		return dst[:start], fmt.Errorf("wire: capture: line of %d bytes exceeds %d", len(dst)-start, MaxCaptureLine)
	}
	return append(dst, '\n'), nil
}

// Write appends one record as one line.
func (c *CaptureWriter) Write(r CaptureRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	c.buf, err = AppendCaptureLine(c.buf[:0], r)
	if err != nil {
		return err
	}
	_, err = c.w.Write(c.buf)
	return err
}

// Flush writes buffered lines to the underlying writer.
func (c *CaptureWriter) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Flush()
}

// WriteCapture writes records as a whole capture to w (one line each) and
// flushes.
func WriteCapture(w io.Writer, recs ...CaptureRecord) error {
	cw := NewCaptureWriter(w)
	for _, r := range recs {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// CaptureReader reads capture records one line at a time; memory is bounded
// by the line limit whatever the size of the capture.
type CaptureReader struct {
	r    *bufio.Reader
	max  int
	line int
	buf  []byte
}

// NewCaptureReader returns a reader of the capture in r, with line limit MaxCaptureLine.
func NewCaptureReader(r io.Reader) *CaptureReader {
	return &CaptureReader{r: bufio.NewReaderSize(r, 64<<10), max: MaxCaptureLine}
}

// SetMaxLine changes the line limit (n > 0).
func (c *CaptureReader) SetMaxLine(n int) {
	if n > 0 {
		c.max = n
	}
}

// Line is the number of the line last read (1-based).
func (c *CaptureReader) Line() int { return c.line }

// Next returns the next record. It returns io.EOF at the end of the
// capture, and a *CaptureError for a malformed line (reading may go on).
// Blank lines are skipped.
func (c *CaptureReader) Next() (CaptureRecord, error) {
	for {
		line, err := c.readLine()
		if err != nil {
			return CaptureRecord{}, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, derr := ParseCaptureLine(line)
		if derr != nil {
			return CaptureRecord{}, &CaptureError{Line: c.line, Err: derr}
		}
		return rec, nil
	}
}

func (c *CaptureReader) readLine() ([]byte, error) {
	c.buf = c.buf[:0]
	tooLong := false
	for {
		chunk, err := c.r.ReadSlice('\n')
		if !tooLong {
			if len(c.buf)+len(chunk) > c.max+1 { // +1: the newline
				tooLong = true
				c.buf = c.buf[:0]
			} else {
				c.buf = append(c.buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(c.buf) == 0 && !tooLong:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, err
		}
		c.line++
		if tooLong {
			return nil, &CaptureError{Line: c.line, Err: fmt.Errorf("%w (limit %d bytes)", ErrLineTooLong, c.max)}
		}
		return bytes.TrimSuffix(bytes.TrimSuffix(c.buf, []byte{'\n'}), []byte{'\r'}), nil
	}
}

// ParseCaptureLine parses one capture line (without its newline). Errors
// are *DecodeError.
func ParseCaptureLine(line []byte) (CaptureRecord, error) {
	if !utf8.Valid(line) || !json.Valid(line) {
		return CaptureRecord{}, derr(ReasonBadJSON, "capture line is not valid JSON")
	}
	f := parseObject("", line)
	var r CaptureRecord
	r.Topic, _ = f.str("topic", true)
	if _, ok := f.m["recv_at"]; ok {
		r.RecvAt = f.instant("recv_at", false)
	}
	r.Retain = f.boolean("retain", false)
	_, hasRaw := f.m["payload"]
	_, hasB64 := f.m["payload_b64"]
	switch {
	case f.err != nil:
	case hasRaw && hasB64:
		f.fail(derr(ReasonExtraField, "payload and payload_b64 are exclusive"))
	case hasRaw:
		if p := f.get("payload", true); p != nil {
			if p[0] != '{' {
				f.fail(derr(ReasonWrongType, "payload must be an object; other payloads use payload_b64"))
			}
			r.Payload = bytes.Clone(p)
		}
	default:
		s, ok := f.str("payload_b64", true)
		if ok {
			p, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				f.fail(derr(ReasonBadValue, "payload_b64: %v", err))
			}
			r.Payload = p
		}
	}
	if r.Topic == "" && f.err == nil {
		f.fail(derr(ReasonBadValue, "topic must not be empty"))
	}
	if err := f.finish(); err != nil {
		return CaptureRecord{}, err
	}
	return r, nil
}
