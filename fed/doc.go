// Package fed holds federated learning: a server that sends a model's flat
// parameter buffer to sampled clients each round, and clients that train
// it on data that never leaves them and reply with their new parameters.
//
// This file set (message.go, manager.go) holds what every transport and
// the round engine share: the instruction a server sends and the reply a
// client returns, the client side (Handler), the server's view of one
// connected client (Conn), an in-process Conn (Local) and the Manager of
// the clients connected now. Strategies live in fed/strategy, the gRPC
// transport in fed/fedgrpc.
package fed
