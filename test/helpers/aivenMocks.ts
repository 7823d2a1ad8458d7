/**
 * Mocked outputs of Aiven's Valkey service: what the Aiven API returns once the service exists (host, port, the
 * default user and its password, the components). The Aiven API is not reachable from tests; under Pulumi mocks
 * these stand in for it.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The port every mocked Aiven service listens on (Aiven picks one per service). */
export const AIVEN_MOCK_PORT = 12691;

/** The host Aiven gives a service, in Aiven's form `<service>-<project>.<suffix>.aivencloud.com`. */
export function aivenMockHost(serviceName: string, project: string): string {
    return `${serviceName}-${project}.a.aivencloud.com`;
}

/** The password the mocked Aiven gives a service's default user. */
export function aivenMockPassword(serviceName: string): string {
    return `mock-aiven-password-${serviceName}`;
}

/** Outputs of Aiven resources, or undefined for other types. */
export function aivenOutputsFor(
    args: pulumi.runtime.MockResourceArgs,
): Record<string, any> | undefined {
    if (args.type !== "aiven:index/valkey:Valkey") return undefined;
    const { serviceName, project } = args.inputs as { serviceName: string; project: string };
    const host = aivenMockHost(serviceName, project);
    return {
        serviceHost: host,
        servicePort: AIVEN_MOCK_PORT,
        serviceUsername: "default",
        servicePassword: aivenMockPassword(serviceName),
        serviceType: "valkey",
        state: "RUNNING",
        components: [
            {
                component: "valkey",
                host,
                port: AIVEN_MOCK_PORT,
                route: "dynamic",
                usage: "primary",
                ssl: true,
            },
        ],
    };
}
