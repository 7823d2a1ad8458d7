/**
 * IP filter of Aiven services: a service is reachable on the public internet unless its IP filter narrows who
 * may connect, and Aiven's default filter (none set) is every address, IPv4 and IPv6.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isOpenIpFilterEntry } from "../components/aiven/mapping";
import { PlainResource, Violation, json, part, reportAll, violation } from "./common";
import { aivenServiceName, ipFilterOf, isAivenValkey } from "./aivenServices";

const FIX = `List the networks your applications connect from in valkey:aiven.ipFilter, e.g. ["10.0.0.0/16"]`;

/**
 * The pure check over one resource: an Aiven for Valkey service has an IP filter, and no entry of it admits
 * every address (`0.0.0.0/0`, `::/0`).
 */
export function checkAivenIpFilter(resource: PlainResource): Violation[] {
    if (!isAivenValkey(resource)) return [];
    return part(() => {
        const name = aivenServiceName(resource);
        const filter = ipFilterOf(resource);
        if (filter === undefined) {
            return [
                violation(
                    "Aiven service",
                    name,
                    `not admit clients from every address: it sets no IP filter, and Aiven then admits 0.0.0.0/0 and ::/0. ${FIX}`,
                    resource.urn,
                ),
            ];
        }
        const open = filter.filter(isOpenIpFilterEntry);
        if (open.length === 0) return [];
        return [
            violation(
                "Aiven service",
                name,
                `not admit clients from every address: its IP filter holds ${open.map((e) => json(e)).join(" and ")}. ${FIX}`,
                resource.urn,
            ),
        ];
    });
}

/** The Aiven IP-filter policy (resource). */
export const aivenIpFilter: ResourceValidationPolicy = {
    name: "valkey-aiven-ip-filter",
    description:
        "Checks that every Aiven for Valkey service narrows who may connect with an IP filter that does not hold 0.0.0.0/0 or ::/0.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        reportAll(
            checkAivenIpFilter({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: args.props,
            }),
            reportViolation,
        );
    },
};
