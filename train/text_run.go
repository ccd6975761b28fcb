package train

// This file holds what a run prints and records differently for text:
// the unit its examples are counted in, its speed, and a language model's
// epoch line and scalars in bits per character. It leaves out the files
// only a language-model run writes (lm.go).

import (
	"fmt"
	"time"
)

// unit names what a run's examples are: images, texts, or a language
// model's windows.
func (s *session) unit() string {
	switch {
	case s.lm != nil:
		return "windows"
	case s.ds.Encoder != nil:
		return "texts"
	}
	return "images"
}

// classesNote counts the classes for the log, when the task has them.
func (s *session) classesNote() string {
	if s.lm != nil {
		return ""
	}
	return fmt.Sprintf(", %d classes", len(s.ds.Classes))
}

// speed formats an epoch's throughput: images or texts per second, or a
// language model's characters per second.
func (s *session) speed(st EpochStats) string {
	sec := max(st.Duration.Seconds(), 1e-9)
	switch {
	case s.lm != nil:
		return fmt.Sprintf("%.0f chars/s", float64(st.Images*s.cfg.seqLen())/sec)
	case s.ds.Encoder != nil:
		return fmt.Sprintf("%.0f texts/s", float64(st.Images)/sec)
	}
	return fmt.Sprintf("%.0f img/s", float64(st.Images)/sec)
}

// lmEpochLine is a language model's epoch line: losses per character,
// with the validation loss in bits per character and as a perplexity.
func (s *session) lmEpochLine(st EpochStats) string {
	line := fmt.Sprintf("Epoch [%d/%d], Loss: %.4f (%.3f bits/char)", st.Epoch, s.cfg.Epochs, st.TrainLoss, BitsPerChar(st.TrainLoss))
	if s.valL != nil {
		line += fmt.Sprintf(", Val loss: %.4f (%s)", st.ValLoss, lmFigures(st.ValLoss))
	}
	return line
}

// lmScalars records an epoch's losses in bits per character.
func (s *session) lmScalars(st EpochStats, now time.Time) {
	s.events.Scalar("bits_per_char/train", st.Step, BitsPerChar(st.TrainLoss), now)
	if s.valL != nil {
		s.events.Scalar("bits_per_char/val", st.Step, BitsPerChar(st.ValLoss), now)
	}
}
