// Package tfevents writes and reads TensorBoard event files: TFRecord
// framing around hand-encoded tensorflow.Event protobufs holding scalar
// summaries, which TensorBoard's scalar dashboard reads.
//
// A TFRecord is a little-endian uint64 length, the masked CRC-32C of those
// eight bytes, the data, and the masked CRC-32C of the data. An event file
// starts with an Event whose file_version is "brain.Event:2"; TensorBoard
// finds files by the name events.out.tfevents.<time>.<host>.
//
// This file holds the record framing. It leaves out compression (TFRecord's
// GZIP and ZLIB variants), which TensorBoard's event files never use.
package tfevents

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is TFRecord's checksum: CRC-32C rotated right by 15 bits plus
// a constant, so that a record holding its own CRC does not check out.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// AppendRecord appends data framed as one TFRecord to dst.
func AppendRecord(dst, data []byte) []byte {
	var hdr [12]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(hdr[8:], MaskedCRC(hdr[:8]))
	dst = append(dst, hdr[:]...)
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskedCRC(data))
}

// ErrCorrupt is wrapped by the errors of records whose checksum is wrong.
var ErrCorrupt = errors.New("tfevents: corrupt record")

// maxRecord bounds a record's claimed length, so that a damaged header
// cannot ask for gigabytes; scalar events are tens of bytes.
const maxRecord = 64 << 20

// ReadRecord reads one record from r. It returns io.EOF at a clean end of
// input, io.ErrUnexpectedEOF for a record cut short (a file still being
// written), and an error wrapping ErrCorrupt for a bad checksum.
func ReadRecord(r io.Reader) ([]byte, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if got, want := binary.LittleEndian.Uint32(hdr[8:]), MaskedCRC(hdr[:8]); got != want {
		return nil, fmt.Errorf("%w: length checksum %#08x, want %#08x", ErrCorrupt, got, want)
	}
	n := binary.LittleEndian.Uint64(hdr[:8])
	if n > maxRecord {
		return nil, fmt.Errorf("%w: record of %d bytes", ErrCorrupt, n)
	}
	b := make([]byte, n+4)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	data := b[:n]
	if got, want := binary.LittleEndian.Uint32(b[n:]), MaskedCRC(data); got != want {
		return nil, fmt.Errorf("%w: data checksum %#08x, want %#08x", ErrCorrupt, got, want)
	}
	return data, nil
}

// ReadRecords reads every record of r up to its end.
func ReadRecords(r io.Reader) ([][]byte, error) {
	var out [][]byte
	for {
		b, err := ReadRecord(r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("tfevents: record %d: %w", len(out), err)
		}
		out = append(out, b)
	}
}
