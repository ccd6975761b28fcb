// Command cifarpair is the kiln half of a paired check of seed-CNN training
// against PyTorch on real images. paired.py (beside this file) trains the
// seed program's CNN with dropout off from torch.manual_seed(0)'s weights on
// a fixed order of batches and records every step's loss; cifarpair trains
// kiln's SeedCNN from the same weights on the same batches, decoded by kiln,
// and prints how the decoded pixels and the losses compare.
//
// The two runs start equal and then drift apart, as any two float32 programs
// that sum in different orders do in training; what the check can show is a
// systematic difference (kiln's loss falling more slowly, say), which would
// show in the window means.
//
//	python3 bench/cifarpair/paired.py /tmp/cifar10 1000 /tmp/pair
//	go run ./bench/cifarpair -data /tmp/cifar10 -dir /tmp/pair
//
// With dropout (paired.py DATA STEPS OUT SEED 0.2, cifarpair -dropout 0.2)
// the masks differ between the sides, and only the window means compare.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

const batch = 32

func main() {
	dataDir := flag.String("data", "", "the `folder` paired.py read (holding train/)")
	dir := flag.String("dir", "", "the `folder` paired.py wrote")
	window := flag.Int("window", 100, "steps per window of mean losses")
	drop := flag.Float64("dropout", 0, "dropout `probability`, as given to paired.py")
	save := flag.String("save", "", "write kiln's final weights to this safetensors `file`")
	flag.Parse()
	if *dataDir == "" || *dir == "" || *window < 1 {
		fmt.Fprintln(os.Stderr, "usage: cifarpair -data DATA -dir OUT [-window N] [-dropout P]   (after paired.py DATA STEPS OUT [SEED [P]])")
		os.Exit(2)
	}
	if err := run(*dataDir, *dir, *window, float32(*drop), *save); err != nil {
		fmt.Fprintln(os.Stderr, "cifarpair:", err)
		os.Exit(1)
	}
}

func run(dataDir, dir string, window int, drop float32, save string) error {
	var files [4][]uint32
	for i, name := range []string{"init.bin", "perm.bin", "losses_torch.bin", "x0.bin"} {
		var err error
		if files[i], err = readLE(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	init, permBits, want, x0 := files[0], files[1], files[2], files[3]
	steps := len(want)
	if len(permBits) < steps*batch {
		return fmt.Errorf("%s: %d indices for %d steps of %d", filepath.Join(dir, "perm.bin"), len(permBits), steps, batch)
	}
	tf, err := transform.Parse("resize=32x32")
	if err != nil {
		return err
	}
	folder, _, err := imagefolder.Open(filepath.Join(dataDir, "train"), imagefolder.Options{Transform: tf, Strict: true})
	if err != nil {
		return err
	}
	m, err := models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, drop, rand.New(rand.NewPCG(0, 0))) // weights replaced below
	if err != nil {
		return err
	}
	off := 0
	for _, p := range nn.NamedParams(m) {
		d := p.Var.Data()
		if off+len(d) > len(init) {
			return errors.New("init.bin is shorter than the seed CNN's parameters")
		}
		for i := range d {
			d[i] = math.Float32frombits(init[off+i])
		}
		off += len(d)
	}
	if off != len(init) {
		return fmt.Errorf("init.bin holds %d values, the seed CNN %d", len(init), off)
	}
	opt := optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	loss := nn.NewCrossEntropyLoss()
	g := autograd.NewTape()
	per := 3 * 32 * 32
	x := make([]float32, batch*per)
	target := make([]int, batch)
	got := make([]float64, steps)
	for k := range steps {
		for j := range batch {
			i := int(int32(permBits[k*batch+j]))
			if target[j], err = folder.Get(i, x[j*per:(j+1)*per], nil); err != nil {
				return err
			}
		}
		if k == 0 {
			if len(x0) != len(x) {
				return fmt.Errorf("x0.bin holds %d values, a batch %d", len(x0), len(x))
			}
			var maxd, sum float64
			for i, v := range x {
				d := math.Abs(float64(v - math.Float32frombits(x0[i])))
				maxd, sum = math.Max(maxd, d), sum+d
			}
			fmt.Printf("first batch, kiln's pixels against PIL's: largest difference %.1f levels of 255, mean %.3f\n", maxd*255, sum/float64(len(x))*255)
		}
		g.Reset()
		m.Params.ZeroGrad()
		l := loss.Forward(g, m.Forward(g, g.Const(tensor.FromSlice(x, batch, 3, 32, 32))), target)
		g.Backward(l)
		got[k] = float64(l.Item())
		opt.Step()
	}
	fmt.Printf("step 1 loss: kiln %.6f, PyTorch %.6f\n", got[0], math.Float32frombits(want[0]))
	fmt.Println("steps        kiln     PyTorch  (mean loss)")
	var all float64
	for lo := 0; lo < steps; lo += window {
		hi := min(lo+window, steps)
		var a, b float64
		for i := lo; i < hi; i++ {
			a += got[i]
			b += float64(math.Float32frombits(want[i]))
		}
		n := float64(hi - lo)
		fmt.Printf("%5d-%-5d  %.4f   %.4f\n", lo+1, hi, a/n, b/n)
		all += a - b
	}
	fmt.Printf("mean over all %d steps, kiln minus PyTorch: %+.4f\n", steps, all/float64(steps))
	if save != "" {
		return checkpoint.SaveModel(save, m, nil)
	}
	return nil
}

// readLE reads a file of little-endian 32-bit words.
func readLE(path string) ([]uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not a whole number of 32-bit values", path, len(b))
	}
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}
