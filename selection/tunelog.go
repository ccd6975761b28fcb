package selection

// This file holds the writer the trials of a study log through: whole
// lines, each prefixed with its trial, so that trials running at once do
// not interleave mid-line. It leaves out colour and progress bars, which
// parallel trials would garble.

import (
	"io"
	"strings"
	"sync"
)

// lineWriter writes whole lines to w, each with a prefix, for the trials'
// logs, which several goroutines write at once.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixed returns a writer that prefixes each line and writes it to l
// whole.
func (l *lineWriter) prefixed(prefix string) io.Writer {
	return &prefixWriter{l: l, prefix: prefix}
}

type prefixWriter struct {
	l      *lineWriter
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := p.l.Write(append([]byte(p.prefix), p.buf[:i+1]...)); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}
