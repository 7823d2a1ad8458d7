/**
 * Persistence of Aiven services: with `valkey_persistence` off Aiven writes no RDB snapshot and takes no backup,
 * so a restart or a node replacement loses every key and the service cannot be forked or restored.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, part, reportAll, violation } from "./common";
import { aivenServiceName, aivenUserConfig, isAivenValkey } from "./aivenServices";

/** The pure check over one resource: an Aiven for Valkey service does not turn persistence off. */
export function checkAivenPersistence(resource: PlainResource): Violation[] {
    if (!isAivenValkey(resource)) return [];
    return part(() => {
        if (aivenUserConfig(resource).valkeyPersistence !== "off") return [];
        return [
            violation(
                "Aiven service",
                aivenServiceName(resource),
                `keep persistence on (valkeyUserConfig.valkeyPersistence "rdb"), not "off": without it Aiven takes no backups and a restart loses every key. Set valkey:persistence to "rdb"`,
                resource.urn,
            ),
        ];
    });
}

/** The Aiven persistence policy (resource). */
export const aivenPersistence: ResourceValidationPolicy = {
    name: "valkey-aiven-persistence",
    description:
        "Checks that no Aiven for Valkey service turns persistence off, which takes no snapshots and no backups.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkAivenPersistence({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: args.props,
            }),
            reportViolation,
        );
    },
};
