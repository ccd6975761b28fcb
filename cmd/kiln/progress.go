package main

// This file draws training progress. It leaves out colours and terminal
// width detection: the line is kept under 80 columns instead.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/train"
)

// progress passes log lines through and, on a terminal, redraws one
// progress line per epoch in place (images/s, ETA, running loss). Off a
// terminal it prints only the log lines: one per epoch.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Write passes log lines through, clearing the progress line first.
func (p *progress) Write(b []byte) (int, error) {
	p.clear()
	return p.w.Write(b)
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) step(s train.StepInfo) {
	if !p.tty || (time.Since(p.last) < 100*time.Millisecond && s.Step != s.Steps) {
		return
	}
	p.last = time.Now()
	fmt.Fprint(p.w, "\r\033[K"+progressLine(s))
	p.drawn = true
}

// progressLine formats one step's progress.
func progressLine(s train.StepInfo) string {
	const width = 24
	filled := width * s.Step / max(s.Steps, 1)
	ips := float64(s.Images) / max(s.Elapsed.Seconds(), 1e-9)
	eta := time.Duration(float64(s.Elapsed) * float64(s.Steps-s.Step) / float64(max(s.Step, 1))).Round(time.Second)
	return fmt.Sprintf("epoch %d [%s%s] %d/%d  loss %.4f  %.0f img/s  ETA %s",
		s.Epoch, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), s.Step, s.Steps, s.RunningLoss, ips, eta)
}

func (p *progress) done() { p.clear() }
