/**
 * Pod security of Valkey: the server and its sidecars run as a non-root user on a read-only root filesystem
 * and unprivileged. The optional kernel-tuning init container is exempt: it writes /sys and sysctls as root
 * by design and exits before Valkey starts.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, reportAll, violation } from "./common";
import { containersOf, isValkeyStatefulSet, objectName, podSpecOf } from "./resources";

/** The pure check over one resource: each regular container of a Valkey StatefulSet is non-root, read-only, unprivileged. */
export function checkPodSecurity(resource: PlainResource): Violation[] {
    if (!isValkeyStatefulSet(resource)) return [];
    const out: Violation[] = [];
    const pod = podSpecOf(resource).securityContext ?? {};
    const name = objectName(resource);
    for (const c of containersOf(resource)) {
        const sc = c.securityContext ?? {};
        const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
        const user = sc.runAsUser ?? pod.runAsUser;
        if (nonRoot !== true || user === 0) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `run container ${c.name} as non-root (securityContext.runAsNonRoot true${user === 0 ? ", not runAsUser 0" : ""})`,
                    resource.urn,
                ),
            );
        }
        if (sc.readOnlyRootFilesystem !== true) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `give container ${c.name} a read-only root filesystem (securityContext.readOnlyRootFilesystem true)`,
                    resource.urn,
                ),
            );
        }
        if (sc.privileged === true) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `not run container ${c.name} privileged`,
                    resource.urn,
                ),
            );
        }
    }
    return out;
}

/** The pod-security policy (resource). */
export const podSecurity: ResourceValidationPolicy = {
    name: "valkey-pod-security",
    description:
        "Checks that the containers of Valkey StatefulSets run as non-root, unprivileged, on a read-only root filesystem.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkPodSecurity({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: args.props,
            }),
            reportViolation,
        );
    },
};
