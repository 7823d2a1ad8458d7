//go:build tools

// Package tools pins the Pulumi CLI so that `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from this
// module builds it at the versions in go.mod. The version package is the target of the -X ldflag.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
