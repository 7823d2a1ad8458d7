/**
 * Auth: every Valkey cluster requires a password, and the password comes from a Secret — never from the
 * ConfigMap, which is neither encrypted nor access-controlled like a Secret.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, part, plainResources, reportAll, violation } from "./common";
import {
    LABELS,
    objectName,
    objectNamespace,
    podSpecOf,
    valkeyClusters,
    valkeyConfOf,
    valkeyContainerOf,
} from "./resources";
import { lastDirective, parseValkeyConf } from "./valkeyConf";

type Obj = Record<string, any>;

/** Names of the pod's volumes that hold Secret data (a `secret` volume or a projected one with a Secret source). */
function secretVolumes(sts: PlainResource): Set<string> {
    const names = new Set<string>();
    for (const v of (podSpecOf(sts).volumes ?? []) as Obj[]) {
        const projected = ((v.projected?.sources ?? []) as Obj[]).some(
            (s) => s.secret !== undefined,
        );
        if (v.secret !== undefined || projected) names.add(v.name);
    }
    return names;
}

/** True when the container reads an env var from a Secret. */
function envFromSecret(c: Obj): boolean {
    return (
        ((c.env ?? []) as Obj[]).some((e) => e.valueFrom?.secretKeyRef !== undefined) ||
        ((c.envFrom ?? []) as Obj[]).some((e) => e.secretRef !== undefined)
    );
}

const under = (path: string, dir: string): boolean =>
    path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/**
 * The pure check: each cluster's valkey.conf turns auth on (`include` of a file, `requirepass` or `aclfile`)
 * without a password in plain text, and each StatefulSet takes that password from a Secret: the included or
 * ACL file is mounted from a Secret volume, or the server reads it from an env var bound to a Secret.
 */
export function checkAuth(resources: readonly PlainResource[]): Violation[] {
    const out: Violation[] = [];
    for (const [cluster, statefulSets] of valkeyClusters(resources)) {
        out.push(...part(() => checkClusterAuth(cluster, statefulSets, resources)));
    }
    return out;
}

/** One cluster: auth on in its conf, no plain password, the password from a Secret in every StatefulSet. */
function checkClusterAuth(
    cluster: string,
    statefulSets: PlainResource[],
    resources: readonly PlainResource[],
): Violation[] {
    const out: Violation[] = [];
    const conf = valkeyConfOf(resources, cluster, objectNamespace(statefulSets[0]));
    if (!conf) {
        out.push(
            violation(
                "Valkey cluster",
                cluster,
                `have its valkey.conf in a ConfigMap labelled ${LABELS.instance}: ${cluster}, so auth can be checked`,
                statefulSets[0].urn,
            ),
        );
        return out;
    }
    const parsed = parseValkeyConf(conf.text);
    const confName = objectName(conf.resource);
    const plain = ["requirepass", "masterauth"].filter(
        (d) => (lastDirective(parsed, d)?.[0] ?? "") !== "",
    );
    if (plain.length > 0) {
        out.push(
            violation(
                "ConfigMap",
                confName,
                `not hold the password in plain text (${plain.join(", ")}); include it from a file mounted from a Secret`,
                conf.resource.urn,
            ),
        );
    }
    const files = [...(parsed.get("include") ?? []), ...(parsed.get("aclfile") ?? [])]
        .map((a) => a[0])
        .filter((f) => !!f);
    if (files.length === 0 && plain.length === 0) {
        out.push(
            violation(
                "ConfigMap",
                confName,
                "turn auth on: include the password file mounted from a Secret (e.g. include /etc/valkey-auth/auth.conf)",
                conf.resource.urn,
            ),
        );
        return out;
    }
    for (const sts of statefulSets) {
        const container = valkeyContainerOf(sts) ?? {};
        const secrets = secretVolumes(sts);
        const secretMounts = ((container.volumeMounts ?? []) as Obj[])
            .filter((m) => secrets.has(m.name))
            .map((m) => String(m.mountPath));
        const fromSecretFile = files.some((f) => secretMounts.some((dir) => under(f, dir)));
        if (!fromSecretFile && !envFromSecret(container)) {
            out.push(
                violation(
                    "StatefulSet",
                    objectName(sts),
                    `take the Valkey password from a Secret: mount ${files[0] ?? "the auth file"} from a Secret volume, or bind the password env var to a secretKeyRef`,
                    sts.urn,
                ),
            );
        }
    }
    return out;
}

/** The auth policy (stack). */
export const auth: StackValidationPolicy = {
    name: "valkey-auth",
    description:
        "Checks that every Valkey cluster requires a password and takes it from a Secret, never from plain text in its ConfigMap.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        reportAll(checkAuth(plainResources(args)), reportViolation);
    },
};
