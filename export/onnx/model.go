package onnx

// Serialisation of a built graph as an ONNX ModelProto (field numbers from
// onnx/onnx.proto). The weights are streamed to the writer rather than
// copied into one big message, so writing a model costs one copy of its
// weights in memory. This file leaves out external data (models over 2 GiB),
// sparse initializers, metadata_props and training_info.

import (
	"bufio"
	"fmt"
	"io"
)

// ONNX enum values used here.
const (
	dataFloat = 1 // TensorProto.DataType FLOAT
	dataInt64 = 7 // TensorProto.DataType INT64

	attrFloat  = 1 // AttributeProto.AttributeType FLOAT
	attrInt    = 2
	attrString = 3
	attrInts   = 7
)

// A piece is one length-delimited field whose content is the concatenation
// of chunks, so a tensor's header and its raw data need not be joined.
type piece struct {
	field  int
	chunks [][]byte
}

func (p piece) contentLen() int {
	n := 0
	for _, c := range p.chunks {
		n += len(c)
	}
	return n
}

func (p piece) encodedLen() int { return fieldLen(p.field, p.contentLen()) }

func writePieces(w *bufio.Writer, ps []piece) {
	var hdr []byte
	for _, p := range ps {
		hdr = appendVarint(appendTag(hdr[:0], p.field, wireBytes), uint64(p.contentLen()))
		w.Write(hdr)
		for _, c := range p.chunks {
			w.Write(c)
		}
	}
}

func encodeAttr(a Attr) []byte {
	b := appendString(nil, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = appendFloat(b, 2, a.f)
	case attrInt:
		b = appendInt(b, 3, a.i)
	case attrString:
		b = appendString(b, 4, a.s)
	case attrInts:
		for _, v := range a.ints {
			b = appendInt(b, 8, v)
		}
	}
	return appendInt(b, 20, int64(a.kind))
}

func encodeNode(n *node) []byte {
	var b []byte
	for _, s := range n.in {
		b = appendString(b, 1, s)
	}
	for _, s := range n.out {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		b = appendBytes(b, 5, encodeAttr(a))
	}
	return b
}

// initializerPiece is a GraphProto.initializer: a TensorProto with dims,
// data_type, name and little-endian raw_data.
func initializerPiece(t *initializer) piece {
	var h []byte
	for _, d := range t.dims {
		h = appendInt(h, 1, int64(d))
	}
	h = appendInt(h, 2, int64(t.dtype))
	h = appendString(h, 8, t.name)
	h = appendVarint(appendTag(h, 9, wireBytes), uint64(len(t.raw)))
	return piece{field: 5, chunks: [][]byte{h, t.raw}}
}

// encodeValueInfo writes a float tensor ValueInfoProto. A dimension is a
// dim_value when known, the batch parameter for batchDim, and left empty
// (unknown) otherwise.
func encodeValueInfo(name string, dims []int, batchParam string) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch {
		case d >= 0:
			dim = appendInt(nil, 1, int64(d))
		case d == batchDim:
			dim = appendString(nil, 2, batchParam)
		}
		shape = appendBytes(shape, 1, dim)
	}
	tensor := appendInt(nil, 1, dataFloat)
	tensor = appendBytes(tensor, 2, shape)
	typ := appendBytes(nil, 1, tensor)
	return appendBytes(appendString(nil, 1, name), 2, typ)
}

// writeModel writes b's graph, whose input is in and output out, as a
// ModelProto.
func (b *Builder) writeModel(w io.Writer, in, out string, opts Options) error {
	var graph []piece
	for i := range b.nodes {
		graph = append(graph, piece{field: 1, chunks: [][]byte{encodeNode(&b.nodes[i])}})
	}
	graph = append(graph, piece{field: 2, chunks: [][]byte{[]byte(opts.GraphName)}})
	for i := range b.inits {
		graph = append(graph, initializerPiece(&b.inits[i]))
	}
	if opts.DocString != "" {
		graph = append(graph, piece{field: 10, chunks: [][]byte{[]byte(opts.DocString)}})
	}
	graph = append(graph,
		piece{field: 11, chunks: [][]byte{encodeValueInfo(in, b.shapes[in], opts.BatchParam)}},
		piece{field: 12, chunks: [][]byte{encodeValueInfo(out, b.shapes[out], opts.BatchParam)}})
	graphLen := 0
	for _, p := range graph {
		graphLen += p.encodedLen()
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	var hdr []byte
	hdr = appendInt(hdr, 1, IRVersion)
	hdr = appendString(hdr, 2, "kiln")
	if opts.ProducerVersion != "" {
		hdr = appendString(hdr, 3, opts.ProducerVersion)
	}
	hdr = appendVarint(appendTag(hdr, 7, wireBytes), uint64(graphLen))
	bw.Write(hdr)
	writePieces(bw, graph)
	opset := appendString(nil, 1, "") // the default ai.onnx domain
	opset = appendInt(opset, 2, Opset)
	bw.Write(appendBytes(nil, 8, opset))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("onnx: writing model: %w", err)
	}
	return nil
}
