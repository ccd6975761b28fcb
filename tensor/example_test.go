package tensor_test

import (
	"fmt"

	"github.com/kiln-ml/kiln/tensor"
)

func Example() {
	// A 2x3 matrix viewing a slice, and its transpose, which shares memory.
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	xt := x.T()
	fmt.Println(x.Shape(), xt.Shape(), xt.At(2, 1))
	x.Set(60, 1, 2)
	fmt.Println(xt.At(2, 1), xt.IsContiguous())
	// Output:
	// [2 3] [3 2] 6
	// 60 false
}

func ExampleAdd_broadcasting() {
	// A (2,3) matrix plus a (3,) row adds the row to every row; a (2,1)
	// column is repeated across the columns.
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	row := tensor.FromSlice([]float32{10, 20, 30}, 3)
	col := tensor.FromSlice([]float32{100, 200}, 2, 1)
	fmt.Println(tensor.Add(nil, x, row))
	fmt.Println(tensor.Add(nil, x, col))

	// Passing a destination reuses it; here x is doubled in place.
	tensor.Mul(x, x, tensor.Scalar(2))
	fmt.Println(x)
	// Output:
	// Tensor[2 3][11 22 33 14 25 36]
	// Tensor[2 3][101 102 103 204 205 206]
	// Tensor[2 3][2 4 6 8 10 12]
}

func ExampleMatMul() {
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	fmt.Println(tensor.MatMul(nil, a, b))
	// a @ a^T: the transposed view goes to the kernel without a copy.
	fmt.Println(tensor.MatMul(nil, a, a.T()))
	// A batch of two matrices times one shared matrix.
	batch := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 3)
	fmt.Println(tensor.MatMul(nil, batch, b))
	// Output:
	// Tensor[2 2][4 5 10 11]
	// Tensor[2 2][14 32 32 77]
	// Tensor[2 2 2][4 5 10 11 16 17 22 23]
}

func ExampleSum() {
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(tensor.Sum(nil, x, 0, false))
	fmt.Println(tensor.Sum(nil, x, -1, true))
	// SumTo undoes broadcasting: the gradient of a (3,) bias.
	fmt.Println(tensor.SumTo(tensor.New(3), x))
	// Output:
	// Tensor[3][5 7 9]
	// Tensor[2 1][6 15]
	// Tensor[3][5 7 9]
}

func ExampleSoftmax() {
	x := tensor.FromSlice([]float32{0, 0, 1000, 1000}, 2, 2)
	fmt.Println(tensor.Softmax(nil, x, -1))
	// Output:
	// Tensor[2 2][0.5 0.5 0.5 0.5]
}
