// Package export writes a finished run's model for use outside kiln: the
// network as ONNX (ONNX, through package export/onnx) or its weights as a
// safetensors state_dict in another precision (Safetensors). kiln
// quantize's int8 model (which "int8") exports as ONNX in the QDQ form
// (int8.go). Files are written atomically. It leaves out other formats
// (TorchScript, TensorFlow) and safetensors below 16 bits.
package export
