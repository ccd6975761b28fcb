package rlrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/rl/agent"
	"github.com/kiln-ml/kiln/rl/classic"
)

// Config is a reinforcement-learning run's settings, saved as config.json.
type Config struct {
	Env             string                `json:"env"`  // short name: cartpole, acrobot, mountaincar
	Algo            string                `json:"algo"` // ppo, a2c, reinforce or dqn
	Steps           int                   `json:"steps"`
	Envs            int                   `json:"envs"`
	Seed            uint64                `json:"seed"`
	CheckpointEvery int                   `json:"checkpoint_every"` // environment steps between saved states
	LogEvery        int                   `json:"log_every"`        // environment steps between metrics rows
	EvalEvery       int                   `json:"eval_every"`       // environment steps between evaluations of the deterministic policy; 0 for none
	EvalEpisodes    int                   `json:"eval_episodes"`    // episodes per evaluation
	Settings        string                `json:"settings"`         // "zoo" or "defaults": where the agent's settings came from
	OnPolicy        *agent.OnPolicyConfig `json:"on_policy,omitempty"`
	DQN             *agent.DQNConfig      `json:"dqn,omitempty"`
}

// NewConfig returns the settings for algo on env: the rl-zoo's tuned ones
// (agent.Zoo) when it has them and defaults is false, SB3's defaults with
// 8 environments (1 for DQN) and 100,000 steps otherwise.
func NewConfig(env, algo string, defaults bool) (Config, error) {
	short, err := classic.Canonical(env)
	if err != nil {
		return Config{}, err
	}
	z, ok := agent.Zoo(short, algo)
	settings := "zoo"
	if !ok || defaults {
		if z, err = agent.Defaults(algo); err != nil {
			return Config{}, err
		}
		z.Envs, z.Steps, settings = 8, 100_000, "defaults"
		if algo == "dqn" {
			z.Envs = 1
		}
	}
	c := Config{Env: short, Algo: algo, Steps: z.Steps, Envs: z.Envs, CheckpointEvery: 10_000, LogEvery: 2048, EvalEvery: 10_000, EvalEpisodes: 10,
		Settings: settings, OnPolicy: z.OnPolicy, DQN: z.DQN}
	return c, c.Validate()
}

// Validate checks the settings.
func (c *Config) Validate() error {
	e, err := classic.Make(c.Env)
	if err != nil {
		return fmt.Errorf("rlrun: %w", err)
	}
	if e.Spec().Actions == 0 {
		return fmt.Errorf("rlrun: %s has continuous actions, and kiln's agents take discrete ones", e.Spec().ID)
	}
	if c.EvalEvery < 0 || c.EvalEpisodes < 0 || (c.EvalEvery > 0 && c.EvalEpisodes < 1) {
		return fmt.Errorf("rlrun: eval_every %d, eval_episodes %d: want eval_every 0 (none) or positive with at least one episode", c.EvalEvery, c.EvalEpisodes)
	}
	if c.Steps < 1 || c.Envs < 1 || c.Envs > 1024 || c.CheckpointEvery < 1 || c.LogEvery < 1 {
		return fmt.Errorf("rlrun: steps %d, envs %d, checkpoint_every %d, log_every %d: want steps, checkpoint_every and log_every at least 1 and envs in [1, 1024]",
			c.Steps, c.Envs, c.CheckpointEvery, c.LogEvery)
	}
	switch {
	case c.Algo == "dqn" && c.DQN != nil && c.OnPolicy == nil:
		return c.DQN.Validate()
	case c.Algo != "dqn" && c.OnPolicy != nil && c.DQN == nil:
		if c.OnPolicy.Algo != c.Algo {
			return fmt.Errorf("rlrun: algo %q with on-policy settings of %q", c.Algo, c.OnPolicy.Algo)
		}
		return c.OnPolicy.Validate()
	}
	return fmt.Errorf("rlrun: algo %q needs exactly its own settings (on_policy for ppo, a2c and reinforce; dqn for dqn)", c.Algo)
}

// ParseConfig reads a config.json's bytes; unknown keys are refused.
func ParseConfig(b []byte, path string) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("rlrun: %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("rlrun: %s: %w", path, err)
	}
	return c, nil
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("rlrun: %s is not a kiln rl run directory: %w", dir, err)
	}
	return ParseConfig(b, path)
}
