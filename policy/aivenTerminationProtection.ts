/**
 * Termination protection of Aiven services: Aiven refuses to delete a protected service, so a `pulumi destroy`,
 * a replacement (a change of project or service name) or a mistake in the console cannot take the data with it.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, json, part, reportAll, violation } from "./common";
import { aivenServiceName, isAivenValkey } from "./aivenServices";

/** The pure check over one resource: an Aiven for Valkey service has `terminationProtection` true. */
export function checkAivenTerminationProtection(resource: PlainResource): Violation[] {
    if (!isAivenValkey(resource)) return [];
    return part(() => {
        const on = resource.props.terminationProtection;
        if (on === true) return [];
        return [
            violation(
                "Aiven service",
                aivenServiceName(resource),
                `have termination protection on (terminationProtection true), not ${json(on ?? "unset")}: without it a destroy or a replacement deletes the service with its data. Set valkey:aiven.terminationProtection to true`,
                resource.urn,
            ),
        ];
    });
}

/** The Aiven termination-protection policy (resource). */
export const aivenTerminationProtection: ResourceValidationPolicy = {
    name: "valkey-aiven-termination-protection",
    description:
        "Checks that every Aiven for Valkey service has termination protection on, so no destroy or replacement deletes it with its data.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkAivenTerminationProtection({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: args.props,
            }),
            reportViolation,
        );
    },
};
