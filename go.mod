module github.com/kiln-ml/kiln

go 1.26.0

require (
	golang.org/x/image v0.48.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
