/**
 * Tags every AWS resource of the platform carries, so that cost reports and clean-ups can find them. Pure.
 */
import type { Settings } from "../config";

/** The tags of one stack's AWS resources. */
export function platformTags(
    settings: Pick<Settings, "name" | "environment">,
    stack: string,
): Record<string, string> {
    return {
        "valkey-platform/cluster": settings.name,
        "valkey-platform/environment": settings.environment,
        "valkey-platform/stack": stack,
    };
}
