// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider at the version pinned in
// ../versions.env. The provider's own main embeds schema-embed.json and terraform-mapping-embed.json, which its
// module zip lacks; install.sh writes them beside this file (git-ignored) from the zip's schema.json and
// terraform-mapping.json before it builds.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var mapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, mapping)
}
