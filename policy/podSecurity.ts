/**
 * Pod security of Valkey: the server and its sidecars run as a non-root user on a read-only root filesystem
 * and unprivileged. The optional kernel-tuning init container is exempt: it writes /sys and sysctls as root
 * by design and exits before Valkey starts.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, part, reportAll, violation } from "./common";
import { containersOf, isValkeyStatefulSet, objectName, podSpecOf } from "./resources";

/** The pure check over one resource: each regular container of a Valkey StatefulSet is non-root, read-only, unprivileged. */
export function checkPodSecurity(resource: PlainResource): Violation[] {
    if (!isValkeyStatefulSet(resource)) return [];
    return containersOf(resource).flatMap((c) => part(() => checkContainerSecurity(resource, c)));
}

/** One container: non-root (its own or the pod's securityContext), read-only root filesystem, unprivileged. */
function checkContainerSecurity(resource: PlainResource, c: Record<string, any>): Violation[] {
    const out: Violation[] = [];
    const pod = podSpecOf(resource).securityContext ?? {};
    const name = objectName(resource);
    const sc = c.securityContext ?? {};
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    const user = sc.runAsUser ?? pod.runAsUser;
    if (nonRoot !== true || user === 0) {
        const rule = `run container ${c.name} as non-root (securityContext.runAsNonRoot true${user === 0 ? ", not runAsUser 0" : ""})`;
        out.push(violation("StatefulSet", name, rule, resource.urn));
    }
    if (sc.readOnlyRootFilesystem !== true) {
        const rule = `give container ${c.name} a read-only root filesystem (securityContext.readOnlyRootFilesystem true)`;
        out.push(violation("StatefulSet", name, rule, resource.urn));
    }
    if (sc.privileged === true) {
        out.push(
            violation("StatefulSet", name, `not run container ${c.name} privileged`, resource.urn),
        );
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
