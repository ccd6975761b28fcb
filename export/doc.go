// Package export writes a finished run's model for use outside kiln: the
// network as ONNX (ONNX, through package export/onnx) or its weights as a
// safetensors state_dict in another precision (Safetensors). Files are
// written atomically. It leaves out other formats (TorchScript,
// TensorFlow) and quantisation below 16 bits.
package export
