// Package client holds a federated client's side of kiln's round engine:
// Trainer, a fed.Handler that trains the global model on the client's own
// data and replies with its new parameters, and the settings the server
// sends with every instruction (Config, carried in fed.Instruction.Config
// as strings).
//
// The server names the model (any image classifier of the zoo), the input
// shape and the class names; the client builds that model, checks that its
// data fit it (same shape; classes matched by name, so a client may hold
// only some of them) and refuses with an error naming the difference.
// Local training is train.Classifier under train.Loop for the given local
// epochs, optimizer, learning rate and batch size, deterministic from
// (seed, round, client name); FedProx's proximal term is added to the
// gradient before every optimizer step; with DP on, DP-SGD
// (privacy.DPClassifier on Poisson-sampled batches) replaces the step and
// the client reports the epsilon it has spent so far, over every round it
// trained in this process.
//
// The parameter vector exchanged with the server (Flatten, Unflatten) is
// the model's packed trainable parameters followed by its floating-point
// buffers (batch norm's running statistics), as Flower exchanges a whole
// state_dict; integer buffers (num_batches_tracked) stay local.
//
// It leaves out the transport (fed/fedgrpc, fed.Local), secure
// aggregation (fed/secure wraps a Trainer), the server (fed/server), text
// and autoencoder models, and learning-rate schedules within a round.
package client
