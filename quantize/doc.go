// Package quantize turns a trained model into an int8 one after training
// (post-training quantisation): weights symmetric int8 per output
// channel, activations symmetric int8 per tensor with scales from a
// calibration set, products accumulated exactly in int32
// (kernels.Int8GemmNT) and rescaled to float32 with the bias. Between
// layers activations stay float32: ReLU and max pooling commute with the
// per-tensor scale, so this costs one quantising pass per layer input.
//
// Quantize runs calibration images through the model's layers and returns
// a Model; Save writes it as safetensors (I8 weights, F32 scales and
// biases); Load reads it back onto the float model's architecture. A
// Model is a models.Model, so the engine's evaluation and prediction run
// it unchanged.
//
// It builds seed-cnn, lenet5, mlp and the CIFAR resnets (batch
// normalisation folded into the convolutions, residual additions and
// average pooling in float32). This package leaves out other modules,
// recurrent and text models, quantisation-aware training, and asymmetric
// (zero-point) schemes.
package quantize
