/**
 * Names of child resources and Kubernetes objects, from one place so that a rename is a deliberate act
 * (renaming a StatefulSet without `aliases` makes Pulumi replace it, and its volumes with it).
 */

/** The name of a child resource: `${name}-<role>[-<suffix>]`. */
export function childName(name: string, role: string, suffix?: string | number): string {
    return suffix === undefined ? `${name}-${role}` : `${name}-${role}-${suffix}`;
}

/** A zone as it may appear inside a DNS label (StatefulSet and pod names): lower case, [a-z0-9-]. */
export function zoneSuffix(zone: string): string {
    return zone
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "");
}

/** The StatefulSet that runs a cluster's pods in one zone: `<name>-<zone>`. */
export function statefulSetName(name: string, zone: string): string {
    return `${name}-${zoneSuffix(zone)}`;
}

/** The pod with `ordinal` in a zone's StatefulSet: `<name>-<zone>-<ordinal>`. */
export function podName(name: string, zone: string, ordinal: number): string {
    return `${statefulSetName(name, zone)}-${ordinal}`;
}
