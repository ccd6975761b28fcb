package transform

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// FuzzParse checks that no spec crashes Parse, that an accepted spec prints
// back to one that parses to the same pipeline, and that the pipeline runs
// on small images of either channel count without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"resize=32,randomcrop=32:4,hflip",
		"rrc=224:scale=0.08/1:ratio=0.75/1.333:bicubic,colorjitter=0.4/0.4/0.4/0.1,normalize=imagenet",
		"centercrop=7x5,rotate=-10/30:bilinear:fill=1/2/3,vflip=0.2,grayscale=3",
		"randomcrop=8:pad=1/2/3/4:symmetric:padifneeded:fill=9,totensor,normalize=0.5/0.4/0.3:0.2/0.2/0.2",
		"resize=3x9:nearest,grayscale",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := Parse(spec)
		if err != nil {
			return
		}
		again, err := Parse(p.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which fails: %v", spec, p.String(), err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("%q printed as %q, which parses differently", spec, p.String())
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, c := range []int{1, 3} {
			if p.Check(c) != nil {
				continue
			}
			oc, oh, ow := p.OutShape(6, 5, c)
			if oc*oh*ow > 1<<16 {
				continue
			}
			// Intermediate sizes are bounded by the largest step, at most maxSide
			// on a side; skip pipelines whose steps could allocate too much.
			big := false
			w, h, cc := 6, 5, c
			for _, s := range p.Steps {
				w, h, cc = s.OutSize(w, h, cc)
				if w*h > 1<<16 {
					big = true
				}
			}
			if big {
				continue
			}
			x := make([]float32, oc*oh*ow)
			if err := p.Tensor(noise(6, 5, c, 1), x, rng); err != nil {
				t.Fatalf("%q on 6x5x%d: %v", spec, c, err)
			}
		}
	})
}
