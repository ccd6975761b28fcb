// Command serve is a bounded load test of kiln serve on loopback: it
// serves a run's model in-process (or targets --url, such as ONNX
// Runtime behind ort_server.js) and sends Open Inference Protocol v2
// requests of Fashion-MNIST test images at concurrency 1, 8 and 64, with
// dynamic batching off (max batch 1) and on, and prints requests/s and
// p50/p99 latency per row. Each row stops after --requests requests or
// --duration, whichever comes first. A last row floods a small queue and
// counts the 429s and the peak heap, to show that the queue, not memory,
// absorbs overload.
//
//	go run ./bench/serve --run runs/fashion        # a trained seed-cnn run
//	go run ./bench/serve                           # trains one epoch first
//
// It leaves out remote targets: it refuses anything but loopback.
package main
