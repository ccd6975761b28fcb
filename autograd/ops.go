package autograd

// This file is the one place that lists kiln's primitive ops and their
// backward rules. Each op's forward (a Tape method) and backward function
// sit side by side in the file named after it; composite ops never appear
// here.

type op uint8

const (
	opLeaf op = iota
	opAdd
	opSub
	opMul
	opDiv
	opUnary
	opMatMul
	opLinear
	opSum
	opSumAll
	opMax
	opReshape
	opPermute
	opSoftmax
	opLogSoftmax
	opLogSumExp
	opNLL
	opBatchNorm
	opDropout
	opConv2d
	opMaxPool2d
	opAvgPool2d
	opAdaptiveAvgPool2d
	opBCEWithLogits
	opNarrow
	opConcat
	opEmbedding
	opRecurrent
	opConvTranspose2d
	opUpsample
	opConv2dReLUPool
	numOps
)

// rule is a primitive op's name (for error messages) and backward rule. A
// rule reads n's gradient, n's inputs and what the forward saved in n, and
// accumulates into the gradients of the inputs that require grad.
type rule struct {
	name     string
	backward func(g *Tape, n *Var)
}

var rules [numOps]rule

func init() {
	rules = [numOps]rule{
		opLeaf:              {"leaf", func(*Tape, *Var) {}},
		opAdd:               {"add", addBackward},
		opSub:               {"sub", subBackward},
		opMul:               {"mul", mulBackward},
		opDiv:               {"div", divBackward},
		opUnary:             {"unary", unaryBackward},
		opMatMul:            {"matmul", matmulBackward},
		opLinear:            {"linear", linearBackward},
		opSum:               {"sum", sumBackward},
		opSumAll:            {"sumall", sumAllBackward},
		opMax:               {"max", maxBackward},
		opReshape:           {"reshape", reshapeBackward},
		opPermute:           {"permute", permuteBackward},
		opSoftmax:           {"softmax", softmaxBackward},
		opLogSoftmax:        {"logsoftmax", logSoftmaxBackward},
		opLogSumExp:         {"logsumexp", logSumExpBackward},
		opNLL:               {"nll", nllBackward},
		opBatchNorm:         {"batchnorm", batchNormBackward},
		opDropout:           {"dropout", dropoutBackward},
		opConv2d:            {"conv2d", conv2dBackward},
		opMaxPool2d:         {"maxpool2d", maxPool2dBackward},
		opConv2dReLUPool:    {"conv2d_relu_maxpool2x2", conv2dReLUPoolBackward},
		opAvgPool2d:         {"avgpool2d", avgPool2dBackward},
		opAdaptiveAvgPool2d: {"adaptiveavgpool2d", adaptiveAvgPool2dBackward},
		opBCEWithLogits:     {"bce_with_logits", bceWithLogitsBackward},
		opNarrow:            {"narrow", narrowBackward},
		opConcat:            {"concat", concatBackward},
		opEmbedding:         {"embedding", embeddingBackward},
		opRecurrent:         {"recurrent", recurrentBackward},
		opConvTranspose2d:   {"conv_transpose2d", convTranspose2dBackward},
		opUpsample:          {"upsample", upsampleBackward},
	}
}
