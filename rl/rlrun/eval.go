package rlrun

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/rl/agent"
	"github.com/kiln-ml/kiln/rl/classic"
)

// Load rebuilds the agent of the run in dir with the networks of its
// model.safetensors, or with best (true) those of best.safetensors.
func Load(dir string, best bool) (Config, agent.Agent, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return cfg, nil, err
	}
	_, a, err := build(cfg)
	if err != nil {
		return cfg, nil, err
	}
	file := ModelFile
	if best {
		file = BestFile
	}
	if _, err := checkpoint.LoadModel(filepath.Join(dir, file), a.Model()); err != nil {
		return cfg, nil, fmt.Errorf("rlrun: %w", err)
	}
	return cfg, a, nil
}

// Evaluate plays episodes with the run's deterministic policy (the best
// evaluated one when best) in envs copies of its environment seeded from
// seed, and returns their returns.
func Evaluate(dir string, best bool, episodes, envs int, seed uint64) ([]float64, error) {
	if episodes < 1 || envs < 1 {
		return nil, fmt.Errorf("rlrun: %d episodes in %d environments: want at least 1 of each", episodes, envs)
	}
	cfg, a, err := Load(dir, best)
	if err != nil {
		return nil, err
	}
	mk, err := classic.Maker(cfg.Env)
	if err != nil {
		return nil, err
	}
	return agent.Evaluate(a, rl.NewVec(mk, envs, seed), episodes), nil
}

// Play plays one episode from the start that seed fixes with the run's
// deterministic policy (the best evaluated one when best) and writes a text frame per step to w. It returns
// the episode's return and length.
func Play(dir string, best bool, seed uint64, w io.Writer) (float64, int, error) {
	cfg, a, err := Load(dir, best)
	if err != nil {
		return 0, 0, err
	}
	e, err := classic.Make(cfg.Env)
	if err != nil {
		return 0, 0, err
	}
	obs := rl.ResetSeed(e, seed)
	r, ok := e.(classic.Renderer)
	frame := func(head string) {
		fmt.Fprintln(w, head)
		if ok {
			fmt.Fprintln(w, r.Render())
		}
	}
	frame(fmt.Sprintf("%s, %s policy from %s, seed %d: start", e.Spec().ID, cfg.Algo, dir, seed))
	act := []float32{0}
	var ret float64
	for n := 1; ; n++ {
		a.Act(obs, 1, true, act)
		o, rew, term, trunc := e.Step(act)
		obs = o
		ret += rew
		frame(fmt.Sprintf("step %d  action %v  reward %g  return %g", n, act[0], rew, ret))
		if term || trunc {
			how := "terminated"
			if !term {
				how = "truncated at the time limit"
			}
			fmt.Fprintf(w, "episode %s after %d steps: return %g\n", how, n, ret)
			return ret, n, nil
		}
	}
}
