// Package layering holds only a test: it checks that kiln's imports point
// down the layers of STYLE.md and docs/ARCHITECTURE.md (kernels <- tensor
// <- autograd <- nn <- optim, models <- train <- run <- source <- task <-
// predict <- selection <- cmd), with data beside the engine and never above
// it.
package layering
