// Package backend is the seam between the training step and the hardware
// it runs on: a Backend owns device memory (Buffer, IntBuffer) and runs the
// hot ops of a convolutional classifier's training step on it (SGEMM,
// convolution forward and backward, max, average and adaptive average
// pooling, batch normalisation, the residual sum, bias, ReLU, sigmoid,
// tanh, dropout, softmax cross-entropy, gradient clipping, the Adam, SGD
// and RMSprop updates).
//
// # Conventions
//
// Shapes are the callers' business, as in internal/kernels: every op takes
// flat buffers and the integers that describe them (conv.Conv2dParams and
// conv.MaxPool2dParams for the windowed ops, rows and columns for the
// rest). Activations are NCHW and matrices row-major. Ops named ...Grad
// and the weight gradient of the convolution accumulate into their output,
// as autograd's backward rules do, so that a caller zeroes a gradient once
// and sums into it; forward ops and Conv2dBackwardData overwrite.
//
// Ops do not return errors: a backend queues them, and the first failure
// (a device fault, a kernel launch refused) is kept and returned by the
// next Sync, Download or Upload, the way CUDA reports asynchronous errors.
// Wrong sizes are programmer errors and panic.
//
// CPU is the reference backend. It calls the very kernels the engine uses
// (internal/kernels, internal/kernels/conv, and tensor's ReLU, sigmoid,
// tanh and softmax loops), in the same order and with the same arguments as autograd's
// backward rules, so a training step run through it gives the engine's
// bits. The CUDA backend lives in internal/backend/cuda behind the cuda
// build tag.
//
// # Left out
//
// Synchronised batch normalisation, the activations besides ReLU, sigmoid
// and tanh, the recurrent cells, mixed precision and more than one
// device: a model that needs them trains on the engine's own path
// (package device refuses it with the layer named).
package backend
