package dist

// This file holds the Communicator interface, Local (one process) and the
// typed helpers built on the interface's byte and float calls. It leaves
// out the transports: goroutines (group.go) and Open MPI (package
// dist/mpi).

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"unsafe"
)

// Communicator joins the ranks of one data-parallel job. Every rank must
// make the same calls in the same order with buffers of the same length;
// a call returns once every rank has made it (or with an error when one
// never does, within the communicator's timeout).
type Communicator interface {
	// Rank is this process's (or goroutine's) number, from 0; Size the
	// number of ranks.
	Rank() int
	Size() int
	// AllReduce replaces buf, on every rank, with the element-wise sum of
	// every rank's buf. Every rank receives the same bits.
	AllReduce(buf []float32) error
	// AllReduce64 is AllReduce for float64 sums: metrics and counts.
	AllReduce64(buf []float64) error
	// Broadcast copies root's buf into every rank's buf.
	Broadcast(buf []byte, root int) error
	// AllGather concatenates every rank's send, in rank order, into recv
	// (len(send)*Size bytes) on every rank.
	AllGather(send, recv []byte) error
	// Barrier returns when every rank has called it.
	Barrier() error
}

// Local is the communicator of a single process: rank 0 of 1. Its calls
// change nothing.
type Local struct{}

var _ Communicator = Local{}

// Rank returns 0.
func (Local) Rank() int { return 0 }

// Size returns 1.
func (Local) Size() int { return 1 }

// AllReduce leaves buf as it is: the sum over one rank.
func (Local) AllReduce([]float32) error { return nil }

// AllReduce64 leaves buf as it is.
func (Local) AllReduce64([]float64) error { return nil }

// Broadcast leaves buf as it is; root must be 0.
func (Local) Broadcast(_ []byte, root int) error { return checkRoot(root, 1) }

// AllGather copies send into recv.
func (Local) AllGather(send, recv []byte) error {
	if len(recv) != len(send) {
		return fmt.Errorf("dist: all-gather of %d bytes into %d, want %d", len(send), len(recv), len(send))
	}
	copy(recv, send)
	return nil
}

// Barrier returns at once.
func (Local) Barrier() error { return nil }

func checkRoot(root, size int) error {
	if root < 0 || root >= size {
		return fmt.Errorf("dist: broadcast from rank %d of %d", root, size)
	}
	return nil
}

// BroadcastFloats copies root's buf into every rank's buf.
func BroadcastFloats(c Communicator, buf []float32, root int) error {
	if len(buf) == 0 {
		return c.Broadcast(nil, root)
	}
	return c.Broadcast(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 4*len(buf)), root)
}

// Hosts returns every rank's host name, in rank order: what an error
// naming a failed rank says. Names are cut to 64 bytes.
func Hosts(c Communicator) ([]string, error) {
	const width = 64
	h, err := os.Hostname()
	if err != nil {
		h = "unknown-host"
	}
	send := make([]byte, width)
	copy(send, h)
	recv := make([]byte, width*c.Size())
	if err := c.AllGather(send, recv); err != nil {
		return nil, err
	}
	out := make([]string, c.Size())
	for r := range out {
		b := recv[r*width : (r+1)*width]
		n := 0
		for n < width && b[n] != 0 {
			n++
		}
		out[r] = string(b[:n])
	}
	return out, nil
}

// Fingerprint is the 64-bit FNV-1a hash of buf's bits, little-endian: two
// buffers that differ in any bit almost surely differ in it.
func Fingerprint(buf []float32) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range buf {
		b := math.Float32bits(v)
		for range 4 {
			h ^= uint64(b & 0xff)
			h *= 1099511628211
			b >>= 8
		}
	}
	return h
}

// SameBits reports, on every rank, the first rank whose buf differs in
// any bit from rank 0's, or -1 when all hold the same values: the check
// that replicas have not drifted apart. It compares 64-bit FNV-1a hashes.
func SameBits(c Communicator, buf []float32) (int, error) {
	send := binary.LittleEndian.AppendUint64(nil, Fingerprint(buf))
	recv := make([]byte, 8*c.Size())
	if err := c.AllGather(send, recv); err != nil {
		return -1, err
	}
	for r := 1; r < c.Size(); r++ {
		if binary.LittleEndian.Uint64(recv[8*r:]) != binary.LittleEndian.Uint64(recv) {
			return r, nil
		}
	}
	return -1, nil
}
