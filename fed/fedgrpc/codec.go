package fedgrpc

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// codecName is the codec's name, registered with grpc's encoding package;
// it travels as the content subtype (application/grpc+kiln-fed).
const codecName = "kiln-fed"

func init() { encoding.RegisterCodec(codec{}) }

// codec is a grpc encoding.Codec for *frame, by encode and decode.
type codec struct{}

// Name names the codec.
func (codec) Name() string { return codecName }

// Marshal encodes a *frame.
func (codec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("fed/fedgrpc: the codec encodes *frame, not %T", v)
	}
	return encode(f)
}

// Unmarshal decodes into a *frame. It keeps nothing of data, which grpc
// reuses.
func (codec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("fed/fedgrpc: the codec decodes into *frame, not %T", v)
	}
	g, err := decode(data)
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

// serviceName and methodName make the stream's path,
// /kiln.fed.v1.Federation/Connect.
const (
	serviceName = "kiln.fed.v1.Federation"
	methodName  = "Connect"
	fullMethod  = "/" + serviceName + "/" + methodName
)

// federation is what the service's handler is given (HandlerType).
type federation interface {
	connect(grpc.ServerStream) error
}

// serviceDesc describes the service by hand (no protoc): one
// bidirectional-streaming method.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*federation)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    methodName,
		Handler:       func(srv any, s grpc.ServerStream) error { return srv.(federation).connect(s) },
		ServerStreams: true,
		ClientStreams: true,
	}},
	Metadata: "kiln/fed/fedgrpc",
}
