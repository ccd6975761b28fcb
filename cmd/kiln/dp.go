package main

// This file holds "kiln dp": the privacy accountant from the command line,
// and the flags of differentially private training that kiln train, cv and
// tune share (--dp and its settings). It leaves out DP training itself
// (packages privacy and task).

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/kiln-ml/kiln/privacy"
	"github.com/kiln-ml/kiln/run"
)

// dpHelp is kiln train's paragraph on --dp.
const dpHelp = `
Differential privacy: --dp trains with DP-SGD as Opacus does. Batches are
Poisson-sampled (every training example joins each step's batch with
probability 1/ceil(N/--batch-size), so --batch-size is the expected size);
each example's gradient is clipped to --max-grad-norm (computed from one
batched backward pass for models whose layers with weights are linear and
convolutional: mlp, lenet5, seed-cnn; other models take a pass per example);
Gaussian noise of --noise-multiplier times --max-grad-norm is added to their
sum. Give --noise-multiplier, or --target-epsilon to have it chosen so that
the run's epochs spend at most that epsilon. The epsilon spent (RDP
accountant, Opacus's orders, --delta) is in every epoch line, metrics.csv,
TensorBoard (privacy/epsilon) and test_report.txt. Models with batch
normalisation and data-parallel runs are refused; kiln dp epsilon computes
epsilon for other settings.
`

// addDPFlags defines --dp and its settings over cfg.
func addDPFlags(fs *flag.FlagSet, cfg *run.Config) {
	fs.BoolVar(&cfg.DP, "dp", cfg.DP, "train with differential privacy (DP-SGD on Poisson-sampled batches)")
	fs.Float64Var(&cfg.MaxGradNorm, "max-grad-norm", cfg.MaxGradNorm, fmt.Sprintf("--dp: clip each example's gradient to this L2 norm (0 means %g)", run.DefaultMaxGradNorm))
	fs.Float64Var(&cfg.NoiseMultiplier, "noise-multiplier", cfg.NoiseMultiplier, "--dp: Gaussian noise of this times --max-grad-norm on the clipped sum")
	fs.Float64Var(&cfg.TargetEpsilon, "target-epsilon", cfg.TargetEpsilon, "--dp: instead of --noise-multiplier, the epsilon the run's epochs may spend; the noise multiplier is chosen for it")
	fs.Float64Var(&cfg.Delta, "delta", cfg.Delta, fmt.Sprintf("--dp: delta of the (epsilon, delta) guarantee (0 means %g)", run.DefaultDelta))
}

// applyDPFlag copies the setting behind one DP flag from src to dst.
func applyDPFlag(dst, src *run.Config, name string) {
	switch name {
	case "dp":
		dst.DP = src.DP
	case "max-grad-norm":
		dst.MaxGradNorm = src.MaxGradNorm
	case "noise-multiplier":
		dst.NoiseMultiplier = src.NoiseMultiplier
	case "target-epsilon":
		dst.TargetEpsilon = src.TargetEpsilon
	case "delta":
		dst.Delta = src.Delta
	}
}

// dpFlagsAgree refuses --noise-multiplier and --target-epsilon together.
func dpFlagsAgree(set map[string]bool) error {
	if set["noise-multiplier"] && set["target-epsilon"] {
		return fmt.Errorf("--noise-multiplier and --target-epsilon: give one (--target-epsilon chooses the noise multiplier)")
	}
	return nil
}

const dpHead = `Usage: kiln dp epsilon --n N --batch B --sigma S --epochs E [--delta D]
       kiln dp epsilon --n N --batch B --epochs E --target-epsilon T [--delta D]

The privacy that DP-SGD spends: batches Poisson-sampled with rate B/N,
Gaussian noise of S times the clipping norm, int(E*N/B) steps, accounted
with Rényi DP over Opacus's orders (1.1 ... 10.9, 12 ... 63). Prints epsilon
and the best order; with --target-epsilon, the noise multiplier that spends
at most T (Opacus's get_noise_multiplier). --conversion mironov gives the
older RDP-to-DP conversion that TensorFlow Privacy's published figures use.
`

func dpCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("want a subcommand: epsilon")}
	}
	switch args[0] {
	case "epsilon":
		return dpEpsilonCmd(args[1:], stdout)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, dpHead)
		return nil
	}
	return usageError{fmt.Errorf("unknown subcommand %q; want epsilon", args[0])}
}

func dpEpsilonCmd(args []string, stdout io.Writer) error {
	fs := newFlagSet("dp epsilon")
	n := fs.Int("n", 0, "training examples")
	batch := fs.Float64("batch", 0, "expected batch size (sample rate = batch/n)")
	sigma := fs.Float64("sigma", 0, "noise multiplier: noise std over the clipping norm")
	epochs := fs.Float64("epochs", 0, "epochs of training")
	delta := fs.Float64("delta", 1e-5, "delta of (epsilon, delta)-DP")
	target := fs.Float64("target-epsilon", 0, "print the noise multiplier for this epsilon instead")
	tol := fs.Float64("tolerance", 0.01, "with --target-epsilon: how far below the target epsilon may fall")
	conv := fs.String("conversion", "opacus", "RDP to (epsilon, delta): opacus (Balle et al. 2020) or mironov (2017)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, dpHead, stdout)
			return nil
		}
		return usageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(pos) > 0:
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	case *n < 1:
		return usageError{fmt.Errorf("--n %d: want the number of training examples, at least 1", *n)}
	case !(*batch > 0 && *batch <= float64(*n)):
		return usageError{fmt.Errorf("--batch %v: want 0 < batch <= --n (%d)", *batch, *n)}
	case !(*epochs > 0) || math.IsInf(*epochs, 1):
		return usageError{fmt.Errorf("--epochs %v: want a finite number > 0", *epochs)}
	case !(*delta > 0 && *delta < 1):
		return usageError{fmt.Errorf("--delta %v: want 0 < delta < 1", *delta)}
	case set["target-epsilon"] && set["sigma"]:
		return usageError{fmt.Errorf("--sigma and --target-epsilon: give one, not both")}
	case !set["target-epsilon"] && !(*sigma > 0):
		return usageError{fmt.Errorf("--sigma %v: want a noise multiplier > 0 (or --target-epsilon)", *sigma)}
	case set["target-epsilon"] && (!(*target > 0) || math.IsInf(*target, 1)):
		return usageError{fmt.Errorf("--target-epsilon %v: want a finite number > 0", *target)}
	case !(*tol > 0):
		return usageError{fmt.Errorf("--tolerance %v: want > 0", *tol)}
	}
	var c privacy.Conversion
	switch *conv {
	case "opacus":
		c = privacy.Balle
	case "mironov":
		c = privacy.Mironov
	default:
		return usageError{fmt.Errorf("--conversion %q: want opacus or mironov", *conv)}
	}
	q := *batch / float64(*n)
	steps := privacy.StepsFor(*epochs, q)
	if set["target-epsilon"] {
		if *conv != "opacus" {
			return usageError{fmt.Errorf("--conversion %s: --target-epsilon searches with Opacus's conversion only", *conv)}
		}
		s, err := privacy.NoiseMultiplier(*target, *delta, q, steps, *tol)
		if err != nil {
			return err
		}
		eps, order, err := privacy.Epsilon(q, s, steps, *delta)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "noise multiplier %.6g\n", s)
		fmt.Fprintf(stdout, "spends epsilon %.4f (target %g, delta %g) at RDP order %g; sample rate %.6g, %d steps\n", eps, *target, *delta, order, q, steps)
		return nil
	}
	orders := privacy.DefaultOrders()
	rdp, err := privacy.RDP(q, *sigma, steps, orders)
	if err != nil {
		return err
	}
	eps, order, err := privacy.PrivacySpent(orders, rdp, *delta, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "epsilon %.4f (delta %g) at RDP order %g\n", eps, *delta, order)
	fmt.Fprintf(stdout, "sample rate %.6g, %d steps, noise multiplier %g, %s conversion\n", q, steps, *sigma, *conv)
	if order == orders[0] || order == orders[len(orders)-1] {
		fmt.Fprintf(stdout, "note: the best order is the %s one; epsilon may be smaller at orders outside Opacus's\n", map[bool]string{true: "smallest", false: "largest"}[order == orders[0]])
	}
	return nil
}
