//go:build tools

// Package tools pins the command build.sh builds, so `go mod tidy` keeps every module it needs in go.sum.
package tools

import _ "github.com/coredns/coredns"
