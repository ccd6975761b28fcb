package transform

// This file holds Parse, the spec-string form of a pipeline for flags and
// config files. It leaves out any file format: a spec is one line.

import (
	"fmt"
	"strings"
)

// maxSide bounds sizes and padding in a spec, so that a typo cannot ask for
// gigabytes per image.
const maxSide = 1 << 14

// Parse reads a pipeline spec: comma-separated steps, each a name, an
// optional "=value" and ":"-separated options, lists written with "/".
//
//	resize=N | resize=HxW           [:nearest|:bilinear|:bicubic]
//	centercrop=N | centercrop=HxW
//	randomcrop=N | randomcrop=HxW   [:P | :pad=P | :pad=L/T/R/B] [:padifneeded]
//	                                [:constant|:edge|:reflect|:symmetric] [:fill=V | :fill=R/G/B]
//	randomresizedcrop=N|HxW (rrc)   [:scale=MIN/MAX] [:ratio=MIN/MAX] [:interpolation]
//	hflip[=P] | vflip[=P]           (P defaults to 0.5)
//	rotate=D | rotate=MIN/MAX       [:interpolation] [:fill=...]
//	colorjitter=B[/C[/S[/H]]] (jitter)
//	grayscale[=1|3]
//	totensor                        (implicit; accepted for familiarity)
//	normalize=M/M/M:S/S/S | normalize=imagenet   (last)
//
// For example "resize=32,randomcrop=32:4,hflip,normalize=imagenet".
func Parse(spec string) (*Compose, error) {
	p := &Compose{}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return p, nil
	}
	for _, step := range strings.Split(spec, ",") {
		step = strings.TrimSpace(step)
		if p.Normalize != nil {
			return nil, fmt.Errorf("transform: step %q comes after normalize, which must be last", step)
		}
		t, n, err := parseStep(step)
		if err != nil {
			return nil, fmt.Errorf("transform: step %q: %w", step, err)
		}
		if n != nil {
			p.Normalize = n
		} else if t != nil {
			p.Steps = append(p.Steps, t)
		}
	}
	return p, nil
}

func parseStep(step string) (Transform, *Normalize, error) {
	opts := strings.Split(step, ":")
	name, val, hasVal := strings.Cut(opts[0], "=")
	name = strings.ToLower(name)
	opts = opts[1:]
	need := func() error {
		if !hasVal {
			return fmt.Errorf("needs a value (%s=...)", name)
		}
		return nil
	}
	switch name {
	case "resize":
		if err := need(); err != nil {
			return nil, nil, err
		}
		r := Resize{}
		var err error
		if strings.Contains(val, "x") {
			r.H, r.W, err = parseSize(val)
		} else {
			r.Size, err = parseInt(val, 1, maxSide)
		}
		if err != nil {
			return nil, nil, err
		}
		r.Interp, err = interpOpts(opts)
		return r, nil, err
	case "centercrop":
		if err := need(); err != nil {
			return nil, nil, err
		}
		h, w, err := parseSize(val)
		if err != nil || len(opts) > 0 {
			return nil, nil, orUnknown(err, opts)
		}
		return CenterCrop{H: h, W: w}, nil, nil
	case "randomcrop":
		if err := need(); err != nil {
			return nil, nil, err
		}
		return parseRandomCrop(val, opts)
	case "randomresizedcrop", "rrc":
		if err := need(); err != nil {
			return nil, nil, err
		}
		return parseRRC(val, opts)
	case "hflip", "vflip":
		prob := 0.5
		if hasVal {
			var err error
			if prob, err = parseFloat(val, 0, 1); err != nil {
				return nil, nil, err
			}
		}
		if len(opts) > 0 {
			return nil, nil, orUnknown(nil, opts)
		}
		if name == "hflip" {
			return RandomHorizontalFlip{P: prob}, nil, nil
		}
		return RandomVerticalFlip{P: prob}, nil, nil
	case "rotate":
		if err := need(); err != nil {
			return nil, nil, err
		}
		return parseRotate(val, opts)
	case "colorjitter", "jitter":
		if err := need(); err != nil {
			return nil, nil, err
		}
		v, err := parseFloats(val, 1, 4)
		if err != nil || len(opts) > 0 {
			return nil, nil, orUnknown(err, opts)
		}
		v = append(v, 0, 0, 0)
		t := ColorJitter{v[0], v[1], v[2], v[3]}
		if t.Brightness < 0 || t.Contrast < 0 || t.Saturation < 0 || t.Hue < 0 || t.Hue > 0.5 {
			return nil, nil, fmt.Errorf("jitter values must be >= 0 and hue <= 0.5")
		}
		return t, nil, nil
	case "grayscale":
		c := 1
		if hasVal {
			var err error
			if c, err = parseInt(val, 1, 3); err != nil || c == 2 {
				return nil, nil, fmt.Errorf("grayscale makes 1 or 3 channels, not %q", val)
			}
		}
		if len(opts) > 0 {
			return nil, nil, orUnknown(nil, opts)
		}
		return Grayscale{Channels: c}, nil, nil
	case "totensor":
		if hasVal || len(opts) > 0 {
			return nil, nil, fmt.Errorf("totensor takes no value")
		}
		return nil, nil, nil
	case "normalize":
		if err := need(); err != nil {
			return nil, nil, err
		}
		n, err := parseNormalize(val, opts)
		return nil, n, err
	}
	return nil, nil, fmt.Errorf("unknown transform %q", name)
}

func orUnknown(err error, opts []string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("unknown option %q", opts[0])
}

func interpOpts(opts []string) (Interpolation, error) {
	interp := InterpDefault
	for _, o := range opts {
		i, ok := parseInterp(o)
		if !ok {
			return 0, fmt.Errorf("unknown option %q", o)
		}
		interp = i
	}
	return interp, nil
}

func parseInterp(s string) (Interpolation, bool) {
	for _, i := range []Interpolation{Nearest, Bilinear, Bicubic} {
		if strings.EqualFold(s, i.String()) {
			return i, true
		}
	}
	return 0, false
}

func parseRandomCrop(val string, opts []string) (Transform, *Normalize, error) {
	h, w, err := parseSize(val)
	if err != nil {
		return nil, nil, err
	}
	t := RandomCrop{H: h, W: w}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch {
		case k == "pad" || isDigits(o):
			if isDigits(o) {
				v = o
			}
			pads, err := parseInts(v, 0, maxSide)
			if err != nil {
				return nil, nil, err
			}
			switch len(pads) {
			case 1:
				t.Padding = [4]int{pads[0], pads[0], pads[0], pads[0]}
			case 2:
				t.Padding = [4]int{pads[0], pads[1], pads[0], pads[1]}
			case 4:
				t.Padding = [4]int(pads)
			default:
				return nil, nil, fmt.Errorf("padding takes 1, 2 or 4 values, not %q", v)
			}
		case o == "padifneeded":
			t.PadIfNeeded = true
		case k == "fill":
			if t.Fill, err = parseBytes(v); err != nil {
				return nil, nil, err
			}
		default:
			mode, ok := parsePadMode(o)
			if !ok {
				return nil, nil, fmt.Errorf("unknown option %q", o)
			}
			t.Mode = mode
		}
	}
	return t, nil, nil
}

func parsePadMode(s string) (PadMode, bool) {
	for _, m := range []PadMode{PadConstant, PadEdge, PadReflect, PadSymmetric} {
		if s == m.String() {
			return m, true
		}
	}
	return 0, false
}

func parseRRC(val string, opts []string) (Transform, *Normalize, error) {
	h, w, err := parseSize(val)
	if err != nil {
		return nil, nil, err
	}
	t := RandomResizedCrop{H: h, W: w}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		var r []float64
		switch k {
		case "scale", "ratio":
			if r, err = parseFloats(v, 2, 2); err != nil {
				return nil, nil, err
			}
			if !(r[0] > 0 && r[0] <= r[1]) || (k == "scale" && r[1] > 1) {
				return nil, nil, fmt.Errorf("%s range %q must have 0 < min <= max", k, v)
			}
			if k == "scale" {
				t.Scale = [2]float64(r)
			} else {
				t.Ratio = [2]float64(r)
			}
		default:
			i, ok := parseInterp(o)
			if !ok {
				return nil, nil, fmt.Errorf("unknown option %q", o)
			}
			t.Interp = i
		}
	}
	return t, nil, nil
}

func parseRotate(val string, opts []string) (Transform, *Normalize, error) {
	d, err := parseFloats(val, 1, 2)
	if err != nil {
		return nil, nil, err
	}
	t := RandomRotation{Degrees: [2]float64{-d[0], d[0]}}
	if len(d) == 2 {
		t.Degrees = [2]float64{d[0], d[1]}
	} else if d[0] < 0 {
		return nil, nil, fmt.Errorf("a single rotation angle must be >= 0, not %q", val)
	}
	if t.Degrees[0] > t.Degrees[1] || t.Degrees[1]-t.Degrees[0] > 1e6 {
		return nil, nil, fmt.Errorf("rotation range %q must have min <= max", val)
	}
	for _, o := range opts {
		if k, v, ok := strings.Cut(o, "="); ok && k == "fill" {
			if t.Fill, err = parseBytes(v); err != nil {
				return nil, nil, err
			}
			continue
		}
		i, ok := parseInterp(o)
		if !ok {
			return nil, nil, fmt.Errorf("unknown option %q", o)
		}
		t.Interp = i
	}
	return t, nil, nil
}

func parseNormalize(val string, opts []string) (*Normalize, error) {
	if val == "imagenet" && len(opts) == 0 {
		return &Normalize{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}, nil
	}
	if len(opts) != 1 {
		return nil, fmt.Errorf("normalize takes MEAN:STD, e.g. 0.5/0.5/0.5:0.25/0.25/0.25")
	}
	mean, err := parseFloats(val, 1, 4)
	if err != nil {
		return nil, err
	}
	std, err := parseFloats(opts[0], 1, 4)
	if err != nil {
		return nil, err
	}
	n := &Normalize{}
	for _, v := range mean {
		n.Mean = append(n.Mean, float32(v))
	}
	for _, v := range std {
		if float32(v) <= 0 {
			return nil, fmt.Errorf("std must be > 0, not %q", opts[0])
		}
		n.Std = append(n.Std, float32(v))
	}
	return n, nil
}
