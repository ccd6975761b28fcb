package secagg

// ByteChiSquare returns Pearson's chi-square statistic of v's bytes
// against the uniform distribution over 0..255 (255 degrees of freedom;
// 330.5 is the 0.1% tail): how the tests show that a masked vector looks
// random to the server, where a plain quantised one does not.
func ByteChiSquare(v []uint32) float64 {
	var counts [256]float64
	for _, w := range v {
		for s := 0; s < 32; s += 8 {
			counts[byte(w>>s)]++
		}
	}
	e := float64(4*len(v)) / 256
	var x float64
	for _, c := range counts {
		x += (c - e) * (c - e) / e
	}
	return x
}
