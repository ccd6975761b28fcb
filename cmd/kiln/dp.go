package main

// This file holds "kiln dp": the privacy accountant from the command line.
// It leaves out DP training itself (package privacy; kiln train --dp is
// not wired yet).

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/kiln-ml/kiln/privacy"
)

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
