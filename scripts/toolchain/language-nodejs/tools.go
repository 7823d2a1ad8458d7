//go:build tools

// Package tools pins the Node language host at sdk/v3 v3.68.0, the last release that carried it inside the sdk
// module (later releases moved it to a module of its own that the proxy we reach refuses).
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
)
