/**
 * Plans of Aiven services: only business (a primary and a standby) and premium (two standbys) plans place the
 * standbys in other availability zones; hobbyist and startup plans run one node, so a node or zone failure stops
 * the service until Aiven rebuilds it from the last backup. The families come from components/aiven/plan.ts,
 * which the settings use too.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
    AIVEN_PLAN_FAMILIES,
    AIVEN_PRODUCTION_FAMILIES,
    aivenPlanWithFamily,
    parseAivenPlan,
} from "../components/aiven/plan";
import { PlainResource, Violation, json, part, reportAll, violation } from "./common";
import { aivenServiceName, isAivenValkey } from "./aivenServices";

/** The pure check over one resource: an Aiven for Valkey service runs a business or premium plan. */
export function checkAivenPlan(resource: PlainResource): Violation[] {
    if (!isAivenValkey(resource)) return [];
    return part(() => {
        const plan = String(resource.props.plan ?? "");
        const parsed = parseAivenPlan(plan);
        if (parsed !== undefined && AIVEN_PRODUCTION_FAMILIES.includes(parsed.family)) return [];
        const what =
            parsed === undefined
                ? "a plan of none of the hobbyist, startup, business and premium families, whose standbys the pack cannot tell"
                : `${AIVEN_PLAN_FAMILIES[parsed.family].nodes} node, no standby`;
        return [
            violation(
                "Aiven service",
                aivenServiceName(resource),
                `run a business or premium plan, whose standbys sit in other availability zones, not ${json(plan)} (${what}). Use ${json(aivenPlanWithFamily(plan, "business"))} or ${json(aivenPlanWithFamily(plan, "premium"))} in valkey:aiven.plan`,
                resource.urn,
            ),
        ];
    });
}

/** The Aiven plan policy (resource). */
export const aivenPlan: ResourceValidationPolicy = {
    name: "valkey-aiven-plan",
    description:
        "Checks that every Aiven for Valkey service runs a business or premium plan, whose standbys sit in other availability zones.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkAivenPlan({ type: args.type, name: args.name, urn: args.urn, props: args.props }),
            reportViolation,
        );
    },
};
