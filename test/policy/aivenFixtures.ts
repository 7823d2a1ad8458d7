/**
 * An Aiven for Valkey service in the shape the program creates it (components/aiven/service.ts) for a prod
 * stack, valid under every policy. Tests take a fresh copy, change one thing, and assert the message.
 */
import type { PlainResource } from "../../policy/common";

/** The type token of Aiven's Valkey service. */
export const AIVEN_VALKEY = "aiven:index/valkey:Valkey";

/** A prod Aiven for Valkey service: premium plan, termination protection, narrow IP filter, RDB persistence. */
export function aivenService(): PlainResource {
    return {
        type: AIVEN_VALKEY,
        name: "valkey-service",
        urn: `urn:pulumi:test::valkey-platform::valkey-platform:aiven:AivenValkey$${AIVEN_VALKEY}::valkey-service`,
        props: {
            project: "acme-valkey-prod",
            cloudName: "aws-us-east-1",
            plan: "premium-8",
            serviceName: "valkey-prod",
            maintenanceWindowDow: "sunday",
            maintenanceWindowTime: "02:00:00",
            terminationProtection: true,
            tags: [{ key: "valkey-platform-environment", value: "prod" }],
            valkeyUserConfig: {
                ipFilterStrings: ["203.0.113.10/32", "10.0.0.0/16"],
                valkeyMaxmemoryPolicy: "noeviction",
                valkeyPersistence: "rdb",
                valkeySsl: true,
                valkeyVersion: "8.1",
            },
        },
    };
}

/** A stack holding the service and its component, as the program registers them. */
export function aivenStack(): PlainResource[] {
    return [
        {
            type: "valkey-platform:aiven:AivenValkey",
            name: "valkey",
            urn: "urn:pulumi:test::valkey-platform::valkey-platform:aiven:AivenValkey::valkey",
            props: {},
        },
        aivenService(),
    ];
}

/** The service of an `aivenStack`. */
export const serviceOf = (r: PlainResource[]): PlainResource =>
    r.find((x) => x.type === AIVEN_VALKEY)!;
