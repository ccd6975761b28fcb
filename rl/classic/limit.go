package classic

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/rl"
)

// limit counts an episode's steps and truncates it at max, Gymnasium's
// TimeLimit wrapper.
type limit struct {
	steps, max int
}

// tick counts one step and reports whether the episode is truncated.
func (l *limit) tick() bool {
	l.steps++
	return l.steps >= l.max
}

// setState checks a saved state of n physical values and a step count.
func setState(id string, dst []float64, l *limit, s []float64) error {
	if len(s) != len(dst)+1 {
		return fmt.Errorf("classic: %s: state of %d values, want %d", id, len(s), len(dst)+1)
	}
	steps := s[len(dst)]
	if steps < 0 || steps != float64(int(steps)) || int(steps) > l.max {
		return fmt.Errorf("classic: %s: step count %v, want an integer in [0, %d]", id, steps, l.max)
	}
	copy(dst, s)
	l.steps = int(steps)
	return nil
}

// discrete returns the index of a discrete action, panicking on a bad one:
// an agent that sends it has a bug.
func discrete(spec rl.Spec, action []float32) int {
	if err := spec.CheckAction(action); err != nil {
		panic(err.Error())
	}
	return int(action[0])
}

// track draws a one-line track of width w with mark at the fraction f in
// [0, 1] of its length.
func track(w int, f float64, mark byte) string {
	b := []byte(strings.Repeat("-", w))
	i := int(f*float64(w-1) + 0.5)
	b[max(0, min(w-1, i))] = mark
	return string(b)
}
