package transform

// This file holds the value readers behind Parse: integers, sizes, numbers
// and lists. It leaves out units and expressions.

import (
	"fmt"
	"strconv"
	"strings"
)

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func parseInt(s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("want an integer in [%d, %d], not %q", lo, hi, s)
	}
	return v, nil
}

func parseInts(s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, "/") {
		v, err := parseInt(f, lo, hi)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// parseSize reads N (a square) or HxW.
func parseSize(s string) (h, w int, err error) {
	hs, ws, ok := strings.Cut(s, "x")
	if !ok {
		ws = hs
	}
	if h, err = parseInt(hs, 1, maxSide); err != nil {
		return 0, 0, err
	}
	if w, err = parseInt(ws, 1, maxSide); err != nil {
		return 0, 0, err
	}
	return h, w, nil
}

func parseFloat(s string, lo, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= lo && v <= hi) {
		return 0, fmt.Errorf("want a number in [%g, %g], not %q", lo, hi, s)
	}
	return v, nil
}

// parseFloats reads between lo and hi finite "/"-separated numbers.
func parseFloats(s string, lo, hi int) ([]float64, error) {
	parts := strings.Split(s, "/")
	if len(parts) < lo || len(parts) > hi {
		return nil, fmt.Errorf("want %d to %d values, not %q", lo, hi, s)
	}
	out := make([]float64, len(parts))
	for i, p := range parts {
		v, err := parseFloat(p, -1e9, 1e9)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func parseBytes(s string) ([]uint8, error) {
	v, err := parseInts(s, 0, 255)
	if err != nil {
		return nil, err
	}
	if len(v) != 1 && len(v) != 3 {
		return nil, fmt.Errorf("fill takes 1 or 3 values, not %q", s)
	}
	out := make([]uint8, len(v))
	for i, x := range v {
		out[i] = uint8(x)
	}
	return out, nil
}
