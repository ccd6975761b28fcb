package run

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestDPConfigValidate(t *testing.T) {
	dp := func(c *Config) { c.DP, c.NoiseMultiplier = true, 1.1; c.SetDPDefaults() }
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.MaxGradNorm = 1 }, "--max-grad-norm 1: differential privacy settings need --dp"},
		{func(c *Config) { c.Delta = 1e-5 }, "--delta 1e-05: differential privacy settings need --dp"},
		{func(c *Config) { dp(c); c.NoiseMultiplier = 0 }, "give --noise-multiplier"},
		{func(c *Config) { dp(c); c.NoiseMultiplier = -1 }, "--noise-multiplier -1"},
		{func(c *Config) { dp(c); c.TargetEpsilon = math.Inf(1) }, "--target-epsilon"},
		{func(c *Config) { dp(c); c.MaxGradNorm = -2 }, "--max-grad-norm -2"},
		{func(c *Config) { dp(c); c.Delta = 1 }, "--delta 1"},
		{func(c *Config) { dp(c); c.ClipNorm = 1 }, "--clip-norm 1"},
		{func(c *Config) { dp(c); c.Task, c.Model = TaskAutoencode, "conv-ae" }, "--task autoencode is not supported"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error with %q", err, tc.want)
		}
	}
	c := DefaultConfig()
	dp(&c)
	if err := c.Validate(); err != nil || c.MaxGradNorm != DefaultMaxGradNorm || c.Delta != DefaultDelta {
		t.Errorf("DP with defaults: %v, C %v, delta %v", err, c.MaxGradNorm, c.Delta)
	}
	c.NoiseMultiplier, c.TargetEpsilon = 0, 3
	if err := c.Validate(); err != nil {
		t.Errorf("--target-epsilon alone: %v", err)
	}
	// config.json records the settings; a run without DP records none.
	b, _ := json.Marshal(c)
	for _, key := range []string{`"dp":true`, `"max_grad_norm":1`, `"target_epsilon":3`, `"delta":0.00001`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("config.json %s lacks %s", b, key)
		}
	}
	b, _ = json.Marshal(DefaultConfig())
	if strings.Contains(string(b), "dp") || strings.Contains(string(b), "delta") {
		t.Errorf("a run without DP records DP settings: %s", b)
	}
}
