package checkpoint

// This file names the safetensors element types. It leaves out the sub-byte
// types (F4, F6_E2M3, F6_E3M2), C64 and the FNUZ float8 variants: kiln has no
// use for them, so reading a file that holds them is an "unsupported dtype"
// error rather than a silent misreading.

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types kiln reads. Float types are held as float32 in
// Tensor.Data, integer types (and BOOL, as 0 or 1) as int64 in Tensor.Ints.
const (
	F64    DType = "F64"
	F32    DType = "F32"
	F16    DType = "F16"
	BF16   DType = "BF16"
	F8E5M2 DType = "F8_E5M2" // PyTorch float8_e5m2; read only
	F8E4M3 DType = "F8_E4M3" // PyTorch float8_e4m3fn (no infinities); read only
	F8E8M0 DType = "F8_E8M0" // PyTorch float8_e8m0fnu (powers of two); read only
	I64    DType = "I64"
	I32    DType = "I32"
	I16    DType = "I16"
	I8     DType = "I8"
	U64    DType = "U64" // values above MaxInt64 are held as their int64 bit pattern
	U32    DType = "U32"
	U16    DType = "U16"
	U8     DType = "U8"
	Bool   DType = "BOOL"
)

// dtypeInfo describes one supported dtype.
//
// rank is the dtype's position in the reference implementation's Dtype enum,
// which is ordered by alignment. The reference writer lays tensors out by
// descending rank and then by name, so every tensor starts at an offset that
// is a multiple of its element size; kiln copies that order to produce the
// same bytes.
type dtypeInfo struct {
	size     int
	float    bool
	writable bool
	rank     int
	min, max int64 // value range of integer types when writing
}

var dtypes = map[DType]dtypeInfo{
	Bool:   {size: 1, rank: 0, writable: true, min: 0, max: 1},
	U8:     {size: 1, rank: 4, writable: true, min: 0, max: 1<<8 - 1},
	I8:     {size: 1, rank: 5, writable: true, min: -1 << 7, max: 1<<7 - 1},
	F8E5M2: {size: 1, rank: 6, float: true},
	F8E4M3: {size: 1, rank: 7, float: true},
	F8E8M0: {size: 1, rank: 8, float: true},
	I16:    {size: 2, rank: 9, writable: true, min: -1 << 15, max: 1<<15 - 1},
	U16:    {size: 2, rank: 10, writable: true, min: 0, max: 1<<16 - 1},
	F16:    {size: 2, rank: 11, float: true, writable: true},
	BF16:   {size: 2, rank: 12, float: true, writable: true},
	I32:    {size: 4, rank: 13, writable: true, min: -1 << 31, max: 1<<31 - 1},
	U32:    {size: 4, rank: 14, writable: true, min: 0, max: 1<<32 - 1},
	F32:    {size: 4, rank: 15, float: true, writable: true},
	F64:    {size: 8, rank: 17, float: true, writable: true},
	I64:    {size: 8, rank: 18, writable: true, min: -1 << 63, max: 1<<63 - 1},
	U64:    {size: 8, rank: 19, writable: true, min: -1 << 63, max: 1<<63 - 1},
}

// Size returns the number of bytes one element occupies in the file, or 0
// for a dtype kiln does not support.
func (d DType) Size() int { return dtypes[d].size }

// IsFloat reports whether tensors of this dtype keep their values in
// Tensor.Data (rather than Tensor.Ints).
func (d DType) IsFloat() bool { return dtypes[d].float }

// Supported reports whether kiln can read tensors of this dtype.
func (d DType) Supported() bool { _, ok := dtypes[d]; return ok }

// Writable reports whether kiln can write tensors of this dtype. The float8
// types are read only: kiln never produces them and their rounding rules
// (saturating or not) differ between libraries.
func (d DType) Writable() bool { return dtypes[d].writable }
