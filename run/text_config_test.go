package run

import (
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/models"
)

func TestTextConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Tokenize = "bpe" }, "--tokenize"},
		{func(c *Config) { c.MaxLen = -1 }, "--max-len"},
		{func(c *Config) { c.TestSplit = 1 }, "--test-split"},
		{func(c *Config) { c.Layers = 2 }, "not seed-cnn"},
		{func(c *Config) { c.Model = models.CharLMName }, "--task lm"},
		{func(c *Config) { c.Task, c.Model = TaskLM, "lstm-classifier" }, "--task lm trains char-lm"},
		{func(c *Config) { c.Task, c.Model, c.Tokenize = TaskLM, models.CharLMName, "word" }, "character-level"},
		{func(c *Config) { c.Task, c.Model, c.ValSplit, c.TestSplit = TaskLM, models.CharLMName, 0.5, 0.5 }, "no training text"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", c, err, tc.want)
		}
	}
	c := DefaultConfig()
	c.Task, c.Model, c.Layers = TaskLM, models.CharLMName, 2
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
