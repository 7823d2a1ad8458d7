//go:build tools

// Package tools pins the command build.sh builds, so `go mod tidy` keeps every module it needs in go.sum.
package tools

import _ "go.etcd.io/etcd/server/v3"
