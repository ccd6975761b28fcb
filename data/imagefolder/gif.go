package imagefolder

// This file holds what image/gif needs to give Pillow's colours: Go's
// decoder replaces the transparent palette entry with transparent black,
// while Pillow's convert("RGB") keeps the entry's colour and drops the
// alpha. It leaves out later frames (only the first is read) and the
// disposal of one frame onto the next.

// gifOpaque returns a copy of a GIF's bytes with the transparency flag of
// the first frame's graphic control extension cleared, or nil when the
// first frame has none (or the blocks before it are malformed: the decoder
// then reports that).
func gifOpaque(b []byte) []byte {
	if len(b) < 13 {
		return nil
	}
	i := 13
	if b[10]&0x80 != 0 { // global colour table
		i += 3 << (b[10]&7 + 1)
	}
	for i+1 < len(b) && b[i] == 0x21 { // extensions before the first image
		label := b[i+1]
		j := i + 2
		if label == 0xf9 && j+5 < len(b) && b[j] == 4 && b[j+1]&1 != 0 {
			c := append([]byte(nil), b...)
			c[j+1] &^= 1
			return c
		}
		for j < len(b) && b[j] != 0 { // data sub-blocks
			j += int(b[j]) + 1
		}
		i = j + 1
	}
	return nil
}
