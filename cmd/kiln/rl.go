package main

// This file holds "kiln rl": train, eval and play, wired to package
// rl/rlrun. It leaves out the environments, the agents and the run
// directory, which live there.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kiln-ml/kiln/rl/agent"
	"github.com/kiln-ml/kiln/rl/rlrun"
)

const rlHead = `Usage: kiln rl train --env ENV --algo ALGO [--steps N] [--envs N] [--seed S] [flags]
       kiln rl train --resume RUN
       kiln rl eval RUN [--episodes 100] [--seed S]
       kiln rl play RUN [--seed S] [--delay 50ms]

Reinforcement learning on Gymnasium's classic-control environments
(cartpole = CartPole-v1, acrobot = Acrobot-v1, mountaincar = MountainCar-v0;
pendulum = Pendulum-v1 has continuous actions, which the agents here do not
take) with PPO, A2C, REINFORCE (with a baseline) or DQN.

The agent's settings are the rl-baselines3-zoo's tuned ones for the
environment where the zoo has them (with its number of environments and
steps), Stable-Baselines3's defaults otherwise or with --defaults. --steps,
--envs and --lr override them. The run directory (--out/--name) holds
config.json, metrics.csv, TensorBoard events, returns.png (episode return
against steps), model.safetensors, best.safetensors (the best of the
evaluations of the deterministic policy every 10,000 steps, 10 episodes
each, as SB3's EvalCallback) and state.safetensors. Ctrl-C saves the
state; "kiln rl train --resume RUN" continues a stopped or killed run with
the same bits as one never stopped.

eval prints the mean and standard deviation of the return of the
deterministic policy over --episodes episodes (--best: of best.safetensors);
play prints one episode as text frames.
`

// rlCmd dispatches kiln rl's subcommands.
func rlCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("want a subcommand: train, eval or play")}
	}
	switch args[0] {
	case "train":
		return rlTrainCmd(ctx, args[1:], stdout)
	case "eval", "evaluate":
		return rlEvalCmd(args[1:], stdout)
	case "play":
		return rlPlayCmd(args[1:], stdout)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, rlHead)
		return nil
	}
	return usageError{fmt.Errorf("unknown subcommand %q; want train, eval or play", args[0])}
}

func rlTrainCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("rl train")
	env := fs.String("env", "cartpole", "environment: cartpole, acrobot or mountaincar (or Gymnasium's id)")
	algo := fs.String("algo", "ppo", "algorithm: "+fmt.Sprint(agent.Algos()))
	steps := fs.Int("steps", 0, "environment steps to train for (default: the zoo's budget, else 100000)")
	envs := fs.Int("envs", 0, "environments stepped together (default: the zoo's, else 8; 1 for DQN)")
	seed := fs.Uint64("seed", 0, "seed of the agent and the environments")
	lr := fs.Float64("lr", 0, "learning rate (default: the settings')")
	defaults := fs.Bool("defaults", false, "Stable-Baselines3's default settings instead of the rl-zoo's")
	doubleQ := fs.Bool("double-q", false, "DQN: Double DQN's target")
	every := fs.Int("checkpoint-every", 10_000, "environment `steps` between saved states")
	out := fs.String("out", "runs", "`folder` that holds run directories")
	name := fs.String("name", "", "run directory name (default: run-<time>); an existing one is never overwritten")
	resume := fs.String("resume", "", "continue the run in `RUN`")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, rlHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (rl train takes only flags)", pos[0])}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	opt := rlrun.Options{Log: stdout}
	start := time.Now()
	if *resume != "" {
		if len(set) > 1 {
			return usageError{fmt.Errorf("--resume: a resumed run keeps its own settings; give no other flag")}
		}
		if err := rlrun.Resume(ctx, *resume, opt); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "run %s finished (this session: %.1fs)\n", *resume, time.Since(start).Seconds())
		return nil
	}
	cfg, err := rlrun.NewConfig(*env, *algo, *defaults)
	if err != nil {
		return usageError{err}
	}
	if set["steps"] {
		cfg.Steps = *steps
	}
	if set["envs"] {
		cfg.Envs = *envs
	}
	cfg.Seed, cfg.CheckpointEvery = *seed, *every
	if set["lr"] {
		if cfg.OnPolicy != nil {
			cfg.OnPolicy.LR = *lr
		} else {
			cfg.DQN.LR = *lr
		}
	}
	if *doubleQ {
		if cfg.DQN == nil {
			return usageError{fmt.Errorf("--double-q is for --algo dqn")}
		}
		cfg.DQN.DoubleQ = true
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	fmt.Fprintf(stdout, "%s on %s (%s settings): %d steps in %d environments, seed %d\n", cfg.Algo, cfg.Env, cfg.Settings, cfg.Steps, cfg.Envs, cfg.Seed)
	dir, err := rlrun.Train(ctx, cfg, *out, *name, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained in %.1fs; run directory %s\n", time.Since(start).Seconds(), dir)
	return nil
}

func rlEvalCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("rl eval")
	episodes := fs.Int("episodes", 100, "episodes to play")
	envs := fs.Int("envs", 8, "environments stepped together")
	seed := fs.Uint64("seed", 1000, "seed of the evaluation environments")
	best := fs.Bool("best", false, "evaluate best.safetensors (the best periodic evaluation) instead of the final model")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, rlHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("want one run directory, got %d arguments", len(pos))}
	}
	if *episodes < 1 || *envs < 1 {
		return usageError{fmt.Errorf("--episodes %d, --envs %d: want at least 1", *episodes, *envs)}
	}
	returns, err := rlrun.Evaluate(pos[0], *best, *episodes, *envs, *seed)
	if err != nil {
		return err
	}
	mean, std := agent.MeanStd(returns)
	which := "final"
	if *best {
		which = "best"
	}
	fmt.Fprintf(stdout, "mean return %.2f ± %.2f over %d episodes (%s model, deterministic policy, seed %d)\n", mean, std, len(returns), which, *seed)
	return nil
}

func rlPlayCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("rl play")
	seed := fs.Uint64("seed", 0, "seed of the episode's start")
	delay := fs.Duration("delay", 0, "pause between frames (e.g. 50ms to watch)")
	best := fs.Bool("best", false, "play best.safetensors instead of the final model")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, rlHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("want one run directory, got %d arguments", len(pos))}
	}
	w := stdout
	if *delay > 0 {
		w = delayWriter{stdout, *delay}
	}
	_, _, err = rlrun.Play(pos[0], *best, *seed, w)
	return err
}

// delayWriter pauses after each frame's first line, so that frames can be
// watched.
type delayWriter struct {
	w     io.Writer
	delay time.Duration
}

func (d delayWriter) Write(b []byte) (int, error) {
	if len(b) > 5 && string(b[:5]) == "step " {
		time.Sleep(d.delay)
	}
	return d.w.Write(b)
}
