package dist

// This file holds Check, which compares what every rank is about to train
// and names the first difference, and GatherBytes, which it and the
// checkpoints of a distributed run use to collect every rank's bytes.

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// GatherBytes returns every rank's b, in rank order, on every rank. The
// slices may have different lengths.
func GatherBytes(c Communicator, b []byte) ([][]byte, error) {
	n := c.Size()
	lens := make([]byte, 8*n)
	if err := c.AllGather(binary.LittleEndian.AppendUint64(nil, uint64(len(b))), lens); err != nil {
		return nil, err
	}
	width := 0
	for r := range n {
		width = max(width, int(binary.LittleEndian.Uint64(lens[8*r:])))
	}
	send := make([]byte, width)
	copy(send, b)
	all := make([]byte, width*n)
	if err := c.AllGather(send, all); err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for r := range out {
		out[r] = all[r*width : r*width+int(binary.LittleEndian.Uint64(lens[8*r:]))]
	}
	return out, nil
}

// MismatchError is Check's error: every rank returns the same one.
type MismatchError struct{ Err error }

func (e *MismatchError) Error() string { return e.Err.Error() }
func (e *MismatchError) Unwrap() error { return e.Err }

// Field is one thing every rank must agree on before training: its name
// as a user knows it (a flag, "the training data") and its value.
type Field struct {
	Name, Value string
}

// Check compares the fields of every rank with rank 0's and returns, on
// every rank, an error naming the first field that differs, the rank and
// host that differ and both values; nil when all agree. hosts are the
// ranks' host names (Hosts).
func Check(c Communicator, hosts []string, fields []Field) error {
	send := make([]byte, 0, 8*len(fields))
	for _, f := range fields {
		h := fnv.New64a()
		h.Write([]byte(f.Value))
		send = binary.LittleEndian.AppendUint64(send, h.Sum64())
	}
	all := make([]byte, len(send)*c.Size())
	if err := c.AllGather(send, all); err != nil {
		return err
	}
	for i, f := range fields {
		for r := 1; r < c.Size(); r++ {
			at := r*len(send) + 8*i
			if binary.LittleEndian.Uint64(all[at:]) == binary.LittleEndian.Uint64(all[8*i:]) {
				continue
			}
			vals, err := GatherBytes(c, []byte(f.Value))
			if err != nil {
				return err
			}
			return &MismatchError{fmt.Errorf("dist: the ranks do not agree on %s: rank %d (%s) has %q, rank 0 (%s) has %q; every rank must run the same kiln with the same settings and data",
				f.Name, r, hostOf(hosts, r), vals[r], hostOf(hosts, 0), vals[0])}
		}
	}
	return nil
}

func hostOf(hosts []string, r int) string {
	if r < len(hosts) {
		return hosts[r]
	}
	return "unknown host"
}
