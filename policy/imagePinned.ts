/**
 * Pinned images: every container of a Valkey pod runs a tagged version or a digest, never `latest` or no tag,
 * so all pods of a cluster run one version and a rollout happens only when the stack says so.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { imagePinProblem } from "../components/config";
import { PlainResource, Violation, json, part, reportAll, violation } from "./common";
import { containersOf, initContainersOf, isValkeyStatefulSet, objectName } from "./resources";

/** The pure check over one resource: each (init) container image of a Valkey StatefulSet is pinned. */
export function checkImagePinned(resource: PlainResource): Violation[] {
    if (!isValkeyStatefulSet(resource)) return [];
    return [...initContainersOf(resource), ...containersOf(resource)].flatMap((c) =>
        part(() => checkContainerImage(resource, c)),
    );
}

/** One container's image: a version tag or a digest. */
function checkContainerImage(resource: PlainResource, c: Record<string, any>): Violation[] {
    const image = typeof c.image === "string" ? c.image : "";
    const problem = image === "" ? "no image is set." : imagePinProblem(image);
    if (!problem) return [];
    return [
        violation(
            "StatefulSet",
            objectName(resource),
            `pin the image of container ${c.name}: got ${json(image)}; ${problem}`,
            resource.urn,
        ),
    ];
}

/** The pinned-image policy (resource). */
export const imagePinned: ResourceValidationPolicy = {
    name: "valkey-image-pinned",
    description:
        "Checks that every container of a Valkey StatefulSet runs an image pinned by version tag or digest, never latest.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkImagePinned({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: args.props,
            }),
            reportViolation,
        );
    },
};
