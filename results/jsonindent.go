package results

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// writeJSON writes v as JSON indented by two spaces, with a trailing
// newline: the bytes of json.MarshalIndent(v, "", "  ") and "\n".
//
// It does not build the indented document in memory. json.MarshalIndent
// holds the compact encoding and the indented copy at once, each in a
// buffer grown by doubling: for a 100× city's 66 MB results.json that was
// over 200 MB of heap after the simulation had ended, as much as the
// simulation's own peak. Here the encoder writes its compact encoding (the
// only whole copy) through an indentWriter, which indents it on the way to
// w in a small buffer.
func writeJSON(w io.Writer, v any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	iw := &indentWriter{w: bw, indent: "  "}
	// Encode writes the compact encoding of v, HTML-escaped as Marshal
	// does, and a newline: outside its strings compact JSON has no
	// whitespace, so that newline passes through as the trailing one.
	if err := json.NewEncoder(iw).Encode(v); err != nil {
		if iw.err != nil {
			return iw.err
		}
		return fmt.Errorf("results: encoding JSON: %w", err)
	}
	return bw.Flush()
}

// indentWriter indents compact JSON written to it, in pieces of any size,
// as json.Indent(dst, src, "", indent) would: a newline and one indent per
// level after each opening bracket and comma and before each closing one,
// a space after each colon, and empty objects and arrays kept as {} and [].
// Bytes inside strings pass unchanged. It relies on its input being
// compact (as json.Marshal and json.Encoder write it): whitespace outside
// strings is copied, not reformatted.
type indentWriter struct {
	w      *bufio.Writer
	indent string
	depth  int
	// open: the last byte outside strings opened an object or array whose
	// first element (and so its newline) has not been seen yet.
	open     bool
	inString bool
	escaped  bool // inside a string, after a backslash
	err      error
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	if iw.err != nil {
		return 0, iw.err
	}
	w := iw.w
	for i := 0; i < len(p); i++ {
		c := p[i]
		if iw.inString {
			// copy the run up to the closing quote or a backslash whole
			j := i
			for j < len(p) && !iw.escaped && p[j] != '"' && p[j] != '\\' {
				j++
			}
			if j > i {
				w.Write(p[i:j])
				i = j - 1
				continue
			}
			switch {
			case iw.escaped:
				iw.escaped = false
			case c == '\\':
				iw.escaped = true
			case c == '"':
				iw.inString = false
			}
			w.WriteByte(c)
			continue
		}
		if iw.open && c != '}' && c != ']' {
			iw.open = false
			iw.depth++
			iw.newline()
		}
		switch c {
		case '"':
			iw.inString = true
			w.WriteByte(c)
		case '{', '[':
			iw.open = true
			w.WriteByte(c)
		case ',':
			w.WriteByte(c)
			iw.newline()
		case ':':
			w.WriteByte(c)
			w.WriteByte(' ')
		case '}', ']':
			if iw.open {
				iw.open = false
			} else {
				iw.depth--
				iw.newline()
			}
			w.WriteByte(c)
		default:
			w.WriteByte(c)
		}
	}
	// bufio.Writer keeps its first error and returns it from every later
	// call: check it once per piece.
	if _, err := w.Write(nil); err != nil {
		iw.err = err
		return 0, err
	}
	return len(p), nil
}

func (iw *indentWriter) newline() {
	iw.w.WriteByte('\n')
	for range iw.depth {
		iw.w.WriteString(iw.indent)
	}
}
