// Package device trains the engine's classifiers on a backend.Backend: a
// model is compiled into a program of backend ops (compile.go), and
// Classifier runs a whole training step on the device, forward, softmax
// cross-entropy, backward and the optimizer's update, with the parameters,
// gradients and optimizer state in device memory. Only the batch goes in
// and the loss, the correct count and (for evaluation) the predictions come
// out; SyncToHost brings the weights back for checkpoints.
//
// Parameters and gradients are one flat buffer each on the device, laid
// out as the model's nn.ParamSet, so checkpoints and training states keep
// their format and a run can move between the engine's path and a device.
// On the CPU backend a step gives the engine's bits (device_test.go).
//
// The program is a list of layers in the engine's tape order, each reading
// an earlier layer's output, so residual blocks (a sum of two layers) run
// too, and every input gradient is added in the engine's order. Batch
// normalisation keeps its running statistics on the device (synced with
// the module's buffers like the weights) and counts batches on the host.
// Predictor runs the same program forward only, for evaluation and
// inference.
//
// The optimizer is Adam, AdamW, SGD or RMSprop with every option optim
// has (amsgrad, maximize, Nesterov, centered...), its update one backend
// op over the flat buffers and its state under optim's names.
//
// Data-parallel ranks combine their gradients on the host
// (Classifier.SetGradSync): after backward the gradients are copied into
// the model's gradient buffer, all-reduced there and copied back.
//
// It leaves out the models whose layers have no backend ops (recurrent
// cells, embeddings, activations other than ReLU, sigmoid and tanh),
// optimizers optim lacks and differential privacy: NewClassifier refuses
// them with what is missing named.
package device
