//go:build tools

// Package tools pins Prometheus' promtool so that `go build github.com/prometheus/prometheus/cmd/promtool` from
// this module builds it at the version in go.mod. The tests run it on the rendered alert rules (check rules,
// test rules) and on every dashboard query.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
