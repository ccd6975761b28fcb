package partition

// This file holds the three partitioners and Split, which picks one by
// name. It leaves out the Dirichlet and Gamma draws (dirichlet.go).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// Options choose a partition.
type Options struct {
	// Method is "iid", "dirichlet" or "shard".
	Method string
	// Alpha is Dirichlet's concentration (> 0): 0.1 gives each client
	// mostly one or two classes, 100 is nearly IID.
	Alpha float64
	// MinSize is the fewest examples Dirichlet leaves a client; 0 means
	// flwr-datasets' default, 10. A draw that leaves a client fewer is
	// redrawn, at most MaxTries times.
	MinSize int
	// MaxTries bounds Dirichlet's redraws (flwr-datasets tries forever);
	// 0 means 1000.
	MaxTries int
	// ShardsPerClient is how many label-sorted shards "shard" deals each
	// client; 0 means 2, McMahan et al.'s.
	ShardsPerClient int
}

// Methods are the names Split accepts.
var Methods = []string{"iid", "dirichlet", "shard"}

// Split partitions the indices of labels (class numbers in [0, classes))
// among clients by o.Method, drawing from rng. Every index lands in
// exactly one part; each part is shuffled (a client's loader shuffles
// again every epoch, but a part read in order should not be sorted by
// class).
func Split(labels []int, classes, clients int, o Options, rng *rand.Rand) ([][]int, error) {
	if clients < 1 {
		return nil, fmt.Errorf("partition: %d clients: want at least 1", clients)
	}
	if len(labels) < clients {
		return nil, fmt.Errorf("partition: %d examples for %d clients: want at least one each", len(labels), clients)
	}
	for i, y := range labels {
		if y < 0 || y >= classes {
			return nil, fmt.Errorf("partition: label %d of example %d is outside [0, %d)", y, i, classes)
		}
	}
	switch strings.ToLower(o.Method) {
	case "iid", "":
		return IID(len(labels), clients, rng), nil
	case "dirichlet":
		return Dirichlet(labels, classes, clients, o, rng)
	case "shard", "shards":
		return Shards(labels, clients, o.ShardsPerClient, rng)
	}
	return nil, fmt.Errorf("partition: method %q: want one of %s", o.Method, strings.Join(Methods, ", "))
}

// IID shuffles the indices 0..n-1 and cuts them into clients parts whose
// sizes differ by at most one, the first n%clients parts one larger (as
// numpy's array_split).
func IID(n, clients int, rng *rand.Rand) [][]int {
	perm := rng.Perm(n)
	parts := make([][]int, clients)
	at := 0
	for c := range parts {
		size := n / clients
		if c < n%clients {
			size++
		}
		parts[c] = perm[at : at+size : at+size]
		at += size
	}
	return parts
}

// Dirichlet partitions by label as flwr-datasets' DirichletPartitioner:
// for each class in increasing order, the class's examples (in index
// order) are cut at the cumulative sums of a Dirichlet(alpha) draw times
// their number, truncated, and client c gets piece c. A draw that leaves
// some client fewer than o.MinSize examples is thrown away whole and
// drawn again; after o.MaxTries the error says what was reached. Each
// part is shuffled at the end.
func Dirichlet(labels []int, classes, clients int, o Options, rng *rand.Rand) ([][]int, error) {
	if !(o.Alpha > 0) || math.IsInf(o.Alpha, 0) {
		return nil, fmt.Errorf("partition: dirichlet alpha %v: want a positive number", o.Alpha)
	}
	minSize, tries := o.MinSize, o.MaxTries
	if minSize == 0 {
		minSize = 10
	}
	if tries == 0 {
		tries = 1000
	}
	if minSize*clients > len(labels) {
		return nil, fmt.Errorf("partition: %d clients of at least %d examples need %d examples; the data has %d (lower the minimum size or the clients)",
			clients, minSize, minSize*clients, len(labels))
	}
	byClass := make([][]int, classes)
	for i, y := range labels {
		byClass[y] = append(byClass[y], i)
	}
	alpha := make([]float64, clients)
	for i := range alpha {
		alpha[i] = o.Alpha
	}
	p := make([]float64, clients)
	best := 0
	for try := 1; try <= tries; try++ {
		parts := make([][]int, clients)
		for _, idx := range byClass {
			if len(idx) == 0 {
				continue // flwr-datasets draws only for classes present
			}
			drawDirichlet(p, alpha, rng)
			cutInto(parts, idx, p)
		}
		smallest := len(labels)
		for _, part := range parts {
			smallest = min(smallest, len(part))
		}
		if smallest >= minSize {
			for _, part := range parts {
				rng.Shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
			}
			return parts, nil
		}
		best = max(best, smallest)
	}
	return nil, fmt.Errorf("partition: dirichlet alpha %v over %d clients: %d draws all left some client fewer than %d examples (at best %d); raise alpha or lower the minimum size",
		o.Alpha, clients, tries, minSize, best)
}

// cutInto appends to parts[c] piece c of idx cut as numpy.split cuts it
// at (cumsum(p) * len(idx)).astype(int)[:-1]: piece c runs from the
// truncated cumulative share of the clients before c to c's own.
func cutInto(parts [][]int, idx []int, p []float64) {
	cum, lo := 0.0, 0
	for c := range p {
		cum += p[c]
		hi := int(cum * float64(len(idx)))
		if c == len(p)-1 {
			hi = len(idx)
		}
		hi = min(max(hi, lo), len(idx))
		parts[c] = append(parts[c], idx[lo:hi]...)
		lo = hi
	}
}

// Shards sorts the indices by label (ties by index), cuts them into
// clients*perClient shards of near-equal size and deals each client
// perClient shards drawn at random without replacement. perClient 0
// means 2.
func Shards(labels []int, clients, perClient int, rng *rand.Rand) ([][]int, error) {
	if perClient == 0 {
		perClient = 2
	}
	shards := clients * perClient
	if perClient < 0 || shards > len(labels) {
		return nil, fmt.Errorf("partition: %d shards per client for %d clients: want at least 1 and at most %d shards in all (one example each)", perClient, clients, len(labels))
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return labels[order[a]] < labels[order[b]] })
	deal := rng.Perm(shards)
	parts := make([][]int, clients)
	n := len(labels)
	for k, s := range deal {
		c := k / perClient
		parts[c] = append(parts[c], order[s*n/shards:(s+1)*n/shards]...)
	}
	for _, part := range parts {
		rng.Shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
	}
	return parts, nil
}

// Counts returns each part's number of examples of each class:
// counts[part][class].
func Counts(parts [][]int, labels []int, classes int) [][]int {
	out := make([][]int, len(parts))
	for c, part := range parts {
		out[c] = make([]int, classes)
		for _, i := range part {
			out[c][labels[i]]++
		}
	}
	return out
}

// Summary describes a partition in one line: the parts' sizes (smallest,
// median, largest) and how many classes the median part holds.
func Summary(parts [][]int, labels []int, classes int) string {
	sizes := make([]int, len(parts))
	held := make([]int, len(parts))
	for c, row := range Counts(parts, labels, classes) {
		sizes[c] = len(parts[c])
		for _, k := range row {
			if k > 0 {
				held[c]++
			}
		}
	}
	slices.Sort(sizes)
	slices.Sort(held)
	mid := len(parts) / 2
	return fmt.Sprintf("%d clients of %d to %d examples (median %d), holding %d to %d classes (median %d)",
		len(parts), sizes[0], sizes[len(sizes)-1], sizes[mid], held[0], held[len(held)-1], held[mid])
}
