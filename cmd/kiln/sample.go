package main

// This file holds "kiln sample", which generates text with a language
// model run, and eval's report for such runs. It leaves out streaming the
// text as it is generated and top-k or nucleus sampling.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/kiln-ml/kiln/predict"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
	"github.com/kiln-ml/kiln/train"
)

const sampleHead = `Usage: kiln sample RUN [--prime TEXT] [--length N] [--temperature T] [--seed S] [--checkpoint best|last|FILE]

Generates text with a language model trained by "kiln train --task lm":
the model reads --prime (default: a line break, which is not printed) and
then draws each next character from the softmax of its scores divided by
--temperature, feeding it back in. Lower temperatures give safer, more
repetitive text; 0 takes the most likely character every time. The same
--seed gives the same text.
`

// maxSampleLength bounds --length.
const maxSampleLength = 1 << 20

func sampleCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("sample")
	prime := fs.String("prime", "", "`text` the sample starts with (printed as part of it)")
	length := fs.Int("length", 500, "characters to generate after the prime")
	temp := fs.Float64("temperature", 0.8, "softmax temperature; 0: always the most likely character")
	seed := fs.Uint64("seed", 1, "seed of the draws: same seed, same text")
	which := fs.String("checkpoint", "best", "weights to use: best, last, or a safetensors `file` of the same model")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, sampleHead, stdout)
			return nil
		}
		return usageError{err}
	}
	switch {
	case len(pos) == 0:
		return usageError{fmt.Errorf("missing the run directory (kiln sample RUN)")}
	case len(pos) > 1:
		return usageError{fmt.Errorf("unexpected argument %q: sample takes one run directory (the prime goes in --prime)", pos[1])}
	case *length < 0 || *length > maxSampleLength:
		return usageError{fmt.Errorf("--length %d: want 0 to %d characters", *length, maxSampleLength)}
	case !(*temp >= 0) || math.IsInf(*temp, 1):
		return usageError{fmt.Errorf("--temperature %g: want 0 (greedy) or more", *temp)}
	}
	m, err := predict.LoadTrained(pos[0], *which)
	if err != nil {
		return err
	}
	if m.Info.Task != run.TaskLM {
		return usageError{fmt.Errorf("%s is a %s run of %s; kiln sample needs a language model (kiln train --task lm)", pos[0], m.Info.Task, m.Info.Model)}
	}
	s, err := m.Sample(*prime, *length, *temp, *seed)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, s)
	return err
}

// lmEvalReport is eval's --json output for a language model.
type lmEvalReport struct {
	Run         string  `json:"run"`
	Checkpoint  string  `json:"checkpoint"`
	Data        string  `json:"data"`
	Loss        float64 `json:"loss"` // nats per character
	BitsPerChar float64 `json:"bits_per_char"`
	Perplexity  float64 `json:"perplexity"`
}

// printLMEval prints a language model's held-out loss.
func printLMEval(w io.Writer, runDir string, m *predict.Trained, what string, r train.Result, asJSON bool) error {
	rep := lmEvalReport{Run: runDir, Checkpoint: m.Checkpoint, Data: what, Loss: r.Loss, BitsPerChar: task.BitsPerChar(r.Loss), Perplexity: math.Exp(r.Loss)}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err := fmt.Fprintf(w, "%s (%s) on %s\nLoss: %.4f nats/char, %.3f bits/char, perplexity %.2f\n",
		m.Checkpoint, m.Info.Model, what, rep.Loss, rep.BitsPerChar, rep.Perplexity)
	return err
}
