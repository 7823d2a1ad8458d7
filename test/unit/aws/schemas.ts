/**
 * Validation of plain manifests against their published schemas: Karpenter's objects with
 * @kubernetes-models/karpenter, core Kubernetes objects with kubernetes-models. Both packages are ES modules
 * only, so they are loaded with dynamic `import()`.
 */

/** What every kubernetes-models class offers (its declared base type does not resolve under our module settings). */
interface Validatable {
    validate(): void;
}

type ModelClass = new (data: unknown) => unknown;

/** The model class of a kind. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
    switch (`${apiVersion}/${kind}`) {
        case "karpenter.sh/v1/NodePool":
            return (await import("@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"))
                .NodePool as unknown as ModelClass;
        case "karpenter.k8s.aws/v1/EC2NodeClass":
            return (await import("@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass"))
                .EC2NodeClass as unknown as ModelClass;
        case "storage.k8s.io/v1/StorageClass":
            return (await import("kubernetes-models/storage.k8s.io/v1/StorageClass"))
                .StorageClass as unknown as ModelClass;
        case "apps/v1/StatefulSet":
            return (await import("kubernetes-models/apps/v1/StatefulSet"))
                .StatefulSet as unknown as ModelClass;
        default:
            throw new Error(`no schema for ${apiVersion} ${kind}`);
    }
}

/** Throws the schema's own error when `manifest` does not validate. */
export async function validateManifest(manifest: {
    apiVersion: string;
    kind: string;
}): Promise<void> {
    const Model = await modelFor(manifest.apiVersion, manifest.kind);
    (new Model(manifest) as Validatable).validate();
}
