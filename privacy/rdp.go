package privacy

// This file holds the RDP accountant of the Poisson-subsampled Gaussian
// mechanism: the formulas of Mironov, Talwar and Zhang (2019) computed as
// opacus/accountants/analysis/rdp.py computes them (log A for integer and
// fractional orders, compute_rdp, get_privacy_spent), and Opacus's
// bisection for the noise multiplier of a target epsilon. It leaves out the
// accountant's history of steps with different settings (Accountant in
// accountant.go keeps it).

import (
	"errors"
	"fmt"
	"math"
)

// DefaultOrders returns Opacus's RDP orders (RDPAccountant.DEFAULT_ALPHAS):
// 1.1, 1.2, ..., 10.9, then 12, 13, ..., 63.
func DefaultOrders() []float64 {
	out := make([]float64, 0, 99+52)
	for x := 1; x < 100; x++ {
		out = append(out, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		out = append(out, float64(a))
	}
	return out
}

// logAdd returns log(exp(x) + exp(y)).
func logAdd(x, y float64) float64 {
	a, b := math.Min(x, y), math.Max(x, y)
	if math.IsInf(a, -1) {
		return b
	}
	return math.Log1p(math.Exp(a-b)) + b
}

// logSub returns log(exp(x) - exp(y)); NaN when y > x, which Opacus
// raises on and which the caller's NaN-skipping minimum then ignores.
func logSub(x, y float64) float64 {
	switch {
	case x < y:
		return math.NaN()
	case math.IsInf(y, -1):
		return x
	case x == y:
		return math.Inf(-1)
	}
	d := math.Expm1(x - y)
	if math.IsInf(d, 1) {
		return x
	}
	return math.Log(d) + y
}

// logErfc returns log(erfc(x)), what Opacus computes as
// log(2) + log_ndtr(-x*sqrt(2)); past x = 5 erfc is taken from its
// continued fraction so that the log stays finite where erfc underflows.
func logErfc(x float64) float64 {
	if x < 5 {
		return math.Log(math.Erfc(x))
	}
	f := x
	for k := 60; k > 0; k-- {
		f = x + float64(k)/2/f
	}
	return -x*x - 0.5*math.Log(math.Pi) - math.Log(f)
}

// logBinom returns log(n choose k) for integers.
func logBinom(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// logAInt is log A_alpha for an integer order: a finite binomial sum.
func logAInt(q, sigma float64, alpha int) float64 {
	logA := math.Inf(-1)
	lq, l1q := math.Log(q), math.Log1p(-q)
	for i := 0; i <= alpha; i++ {
		fi := float64(i)
		c := logBinom(alpha, i) + fi*lq + float64(alpha-i)*l1q
		logA = logAdd(logA, c+(fi*fi-fi)/(2*sigma*sigma))
	}
	return logA
}

// logAFrac is log A_alpha for a fractional order: two series split at z0,
// summed until their terms fall below e^-30.
func logAFrac(q, sigma, alpha float64) float64 {
	logA0, logA1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	lq, l1q := math.Log(q), math.Log1p(-q)
	s2 := 2 * sigma * sigma
	coef := 1.0 // binom(alpha, i), by the product formula
	for i := 0; ; i++ {
		fi := float64(i)
		logCoef := math.Log(math.Abs(coef))
		j := alpha - fi
		logT0 := logCoef + fi*lq + j*l1q
		logT1 := logCoef + j*lq + fi*l1q
		logE0 := math.Log(0.5) + logErfc((fi-z0)/(math.Sqrt2*sigma))
		logE1 := math.Log(0.5) + logErfc((z0-j)/(math.Sqrt2*sigma))
		logS0 := logT0 + (fi*fi-fi)/s2 + logE0
		logS1 := logT1 + (j*j-j)/s2 + logE1
		if coef > 0 {
			logA0 = logAdd(logA0, logS0)
			logA1 = logAdd(logA1, logS1)
		} else {
			logA0 = logSub(logA0, logS0)
			logA1 = logSub(logA1, logS1)
		}
		if math.Max(logS0, logS1) < -30 || i > 100000 {
			break
		}
		coef *= (alpha - fi) / (fi + 1)
	}
	return logAdd(logA0, logA1)
}

// logA is log A_alpha of the sampled Gaussian mechanism with sampling rate
// q and noise multiplier sigma.
func logA(q, sigma, alpha float64) float64 {
	if alpha == math.Trunc(alpha) {
		return logAInt(q, sigma, int(alpha))
	}
	return logAFrac(q, sigma, alpha)
}

// rdpOne is the RDP of one step at one order.
func rdpOne(q, sigma, alpha float64) float64 {
	switch {
	case q == 0:
		return 0
	case sigma == 0:
		return math.Inf(1)
	case q == 1:
		return alpha / (2 * sigma * sigma)
	case math.IsInf(alpha, 1):
		return math.Inf(1)
	}
	return logA(q, sigma, alpha) / (alpha - 1)
}

func checkMechanism(q, sigma float64, steps int) error {
	if !(q >= 0 && q <= 1) {
		return fmt.Errorf("privacy: sample rate %v: want 0 <= q <= 1", q)
	}
	if !(sigma >= 0) || math.IsInf(sigma, 1) {
		return fmt.Errorf("privacy: noise multiplier %v: want a finite number >= 0", sigma)
	}
	if steps < 0 {
		return fmt.Errorf("privacy: %d steps: want >= 0", steps)
	}
	return nil
}

// RDP returns the Rényi differential privacy, at each order, of steps
// compositions of the Gaussian mechanism with noise multiplier sigma on
// batches Poisson-sampled with rate q: Opacus's compute_rdp.
func RDP(q, sigma float64, steps int, orders []float64) ([]float64, error) {
	if err := checkMechanism(q, sigma, steps); err != nil {
		return nil, err
	}
	out := make([]float64, len(orders))
	for i, a := range orders {
		if !(a > 1) {
			return nil, fmt.Errorf("privacy: RDP order %v: want > 1", a)
		}
		out[i] = rdpOne(q, sigma, a) * float64(steps)
	}
	return out, nil
}

// Conversion turns an RDP guarantee at one order into (epsilon, delta)-DP.
type Conversion func(rdp, order, delta float64) float64

// Balle is the conversion Opacus uses (Balle et al. 2020, Proposition 12):
// eps = rdp - (log(delta) + log(order))/(order-1) + log((order-1)/order).
func Balle(rdp, order, delta float64) float64 {
	return rdp - (math.Log(delta)+math.Log(order))/(order-1) + math.Log((order-1)/order)
}

// Mironov is the original conversion (Mironov 2017, Proposition 3) that
// TensorFlow Privacy's compute_dp_sgd_privacy used when it published its
// MNIST figures: eps = rdp - log(delta)/(order-1). It is never smaller
// than Balle's.
func Mironov(rdp, order, delta float64) float64 {
	return rdp - math.Log(delta)/(order-1)
}

// ErrNoPrivacy is returned when every order gives an infinite or undefined
// epsilon (no noise).
var ErrNoPrivacy = errors.New("privacy: no finite epsilon at any order (no noise?)")

// PrivacySpent returns the smallest epsilon over the orders for the given
// RDP values and delta, with conv (Balle for Opacus's
// get_privacy_spent), and the order that gives it.
func PrivacySpent(orders, rdp []float64, delta float64, conv Conversion) (eps, order float64, err error) {
	if len(orders) != len(rdp) {
		panic(fmt.Sprintf("privacy: %d orders and %d RDP values", len(orders), len(rdp)))
	}
	if !(delta > 0 && delta < 1) {
		return 0, 0, fmt.Errorf("privacy: delta %v: want 0 < delta < 1", delta)
	}
	best, at := math.Inf(1), math.NaN()
	for i, a := range orders {
		e := conv(rdp[i], a, delta)
		if !math.IsNaN(e) && (math.IsNaN(at) || e < best) {
			best, at = e, a
		}
	}
	if math.IsNaN(at) || math.IsInf(best, 1) {
		return math.Inf(1), math.NaN(), ErrNoPrivacy
	}
	return best, at, nil
}

// Epsilon returns epsilon and the best order, over Opacus's default orders
// with Opacus's conversion, after steps steps with sample rate q and noise
// multiplier sigma.
func Epsilon(q, sigma float64, steps int, delta float64) (eps, order float64, err error) {
	orders := DefaultOrders()
	rdp, err := RDP(q, sigma, steps, orders)
	if err != nil {
		return 0, 0, err
	}
	return PrivacySpent(orders, rdp, delta, Balle)
}

// StepsFor returns the number of steps of epochs epochs at sample rate q,
// int(epochs/q) as Opacus counts them.
func StepsFor(epochs, q float64) int { return int(epochs / q) }

// maxSigma is where NoiseMultiplier gives up, as Opacus's MAX_SIGMA.
const maxSigma = 1e6

// NoiseMultiplier returns the noise multiplier that spends at most
// targetEps (within tol; Opacus's default is 0.01) after steps steps at
// sample rate q: Opacus's get_noise_multiplier, a doubling search for an
// upper bound and then bisection, returning the upper end.
func NoiseMultiplier(targetEps, delta, q float64, steps int, tol float64) (float64, error) {
	if !(targetEps > 0) || math.IsInf(targetEps, 1) {
		return 0, fmt.Errorf("privacy: target epsilon %v: want a finite number > 0", targetEps)
	}
	if !(tol > 0) {
		return 0, fmt.Errorf("privacy: epsilon tolerance %v: want > 0", tol)
	}
	eps := func(sigma float64) (float64, error) {
		e, _, err := Epsilon(q, sigma, steps, delta)
		if errors.Is(err, ErrNoPrivacy) {
			return math.Inf(1), nil
		}
		return e, err
	}
	epsHigh := math.Inf(1)
	lo, hi := 0.0, 10.0
	for epsHigh > targetEps {
		hi *= 2
		var err error
		if epsHigh, err = eps(hi); err != nil {
			return 0, err
		}
		if hi > maxSigma {
			return 0, fmt.Errorf("privacy: target epsilon %v with delta %v is out of reach below noise multiplier %g", targetEps, delta, maxSigma)
		}
	}
	for targetEps-epsHigh > tol {
		mid := (lo + hi) / 2
		e, err := eps(mid)
		if err != nil {
			return 0, err
		}
		if e < targetEps {
			hi, epsHigh = mid, e
		} else {
			lo = mid
		}
	}
	return hi, nil
}
