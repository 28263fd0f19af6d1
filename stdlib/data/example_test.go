package data_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/bayesl/bayesl/stdlib/data"
	"gonum.org/v1/gonum/mat"
)

func ExampleReadCSV() {
	// ReadCSV takes a path; ParseCSV reads any io.Reader.
	src := `sepal,petal,species
5.1,1.4,setosa
7.0,4.7,versicolor
6.3,6.0,virginica
4.9,1.4,setosa
`
	d, err := data.ParseCSV("flowers.csv", strings.NewReader(src), data.CSVSpec{
		X:       []data.ColumnRef{data.Range("sepal", "petal")},
		Y:       "species",
		Classes: 3,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Rows(), "x", d.Width(), d.XNames, "->", d.YName, d.Classes)
	fmt.Println(d.Y)

	_, err = data.ParseCSV("flowers.csv", strings.NewReader(src), data.CSVSpec{Y: "specis", Classes: 3})
	fmt.Println(err)
	// Output:
	// 4 x 2 [sepal petal] -> species [setosa versicolor virginica]
	// [0 1 2 0]
	// flowers.csv:1: column "specis": unknown column; did you mean "species"? (columns: sepal, petal, species)
}

func ExampleSplit() {
	d, err := data.ReadCSV("../../examples/data/mcycle.csv", data.CSVSpec{
		X:           []data.ColumnRef{data.Col("times")},
		Y:           "accel",
		Standardize: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, test, err := data.Split(d, 0.8, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.Rows(), test.Rows())

	// Standardise with statistics of the training set only, and reuse them
	// for the test set.
	s := data.ScalerFor(train, true)
	var xTest mat.Dense
	s.TransformX(&xTest, test.X)
	yTest := make([]float64, test.Rows())
	s.TransformY(yTest, test.Y)
	fmt.Printf("train mean %.2f g, sd %.2f g\n", s.YMean, s.YStd)
	for i := range 3 {
		fmt.Printf("%6.1f g -> %6.3f -> %6.1f g\n", test.Y[i], yTest[i], s.UnscaleLoc(yTest[i]))
	}
	// Output:
	// 106 27
	// train mean -27.35 g, sd 49.38 g
	//    0.0 g ->  0.554 ->    0.0 g
	//  -50.8 g -> -0.475 ->  -50.8 g
	//    1.3 g ->  0.580 ->    1.3 g
}

func ExampleWriteCSV() {
	err := data.WriteCSV(os.Stdout, []string{"x", "mean", "sd"}, [][]float64{{0.5, 1.25, 0.1}, {1, 2, 1e-3}})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// x,mean,sd
	// 0.5,1.25,0.1
	// 1,2,0.001
}
