/**
 * Validates Kubernetes manifests the program registers against the upstream OpenAPI schemas shipped by
 * kubernetes-models (and @kubernetes-models/* for CRDs), so a typo in a field name fails a test instead of an apply.
 */
import type { RecordedResource } from "./program";

/** apiVersion and kind of a `kubernetes:<group>/<version>:<Kind>` type token, or undefined for other types. */
export function apiOf(type: string): { apiVersion: string; kind: string; group: string; version: string } | undefined {
    const m = /^kubernetes:([^:]+)\/([^/:]+):(.+)$/.exec(type);
    if (!m || m[3] === "CustomResource") return undefined;
    const [, group, version, kind] = m;
    return { apiVersion: group === "core" ? version : `${group}/${version}`, kind, group, version };
}

/** The manifest of a recorded Kubernetes resource (its inputs with apiVersion and kind). */
export function manifestOf(r: RecordedResource): Record<string, any> {
    const api = apiOf(r.type);
    const { apiVersion, kind, ...rest } = r.inputs;
    return { apiVersion: apiVersion ?? api?.apiVersion, kind: kind ?? api?.kind, ...rest };
}

/**
 * Validates one manifest with the kubernetes-models class of its kind; throws the schema error. CustomResources
 * are validated when a model package for their group is installed (Karpenter's and the Prometheus operator's
 * are); for others it returns "no-schema" so a test can decide.
 */
export async function validateManifest(manifest: Record<string, any>): Promise<"validated" | "no-schema"> {
    const [group, version] = manifest.apiVersion.includes("/") ? manifest.apiVersion.split("/") : ["", manifest.apiVersion];
    const mod =
        group === "karpenter.sh" || group === "karpenter.k8s.aws"
            ? `@kubernetes-models/karpenter/${group}/${version}`
            : group === "monitoring.coreos.com"
              ? `@kubernetes-models/prometheus-operator/${group}/${version}`
              : group === ""
              ? `kubernetes-models/${version}`
              : `kubernetes-models/${group}/${version}`;
    let models: Record<string, any>;
    try {
        // The model packages are ES modules with `import`-only exports.
        models = await import(mod);
    } catch {
        return "no-schema";
    }
    const cls = models[manifest.kind];
    if (!cls) return "no-schema";
    new cls(manifest).validate();
    return "validated";
}
