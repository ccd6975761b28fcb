// Package checkpoint reads and writes safetensors files and writes any file
// atomically.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON that map tensor names to a dtype, a shape and a byte range
// (plus an optional "__metadata__" object of string pairs), and then the raw
// little-endian tensor bytes. kiln lays files out as Hugging Face's
// reference serializer does (tensors by descending dtype alignment and then
// name, compact JSON, space padding to 8 bytes), with metadata keys sorted
// where the reference leaves them in hash order, so identical models give
// identical bytes and the official library reads kiln's checkpoints.
//
// The in-memory form is deliberately plain: float tensors are converted to
// float32 and integer tensors to int64, because that is what the engine
// computes with. Reading treats every file as hostile: each number in the
// header is checked against the file before anything is allocated or read,
// and every violation is a *FormatError naming the file and the tensor.
//
// WriteFileAtomic is general; the trainer uses it for metrics and configs.
package checkpoint
