/**
 * Aiven's plans for Valkey as plain data: what each plan family runs (nodes, replicas, zones) and which cloud
 * regions spread a service's nodes over availability zones. The settings, the program and the policy pack share
 * these rules. Pure: imports no cloud package.
 *
 * Aiven for Valkey (as @pulumi/aiven 6.51 offers it) is one primary and its standbys, without cluster mode: one
 * shard. The plan family decides the standbys; the number after it is (roughly) each node's memory in GB:
 * https://aiven.io/docs/products/valkey (high availability by plan), https://aiven.io/pricing.
 */

/** The plan families Aiven offers for Valkey. */
export type AivenPlanFamily = "hobbyist" | "startup" | "business" | "premium";

/** What a plan family runs. */
export interface AivenPlanFamilyInfo {
    /** Nodes of the service: the primary and its standbys. */
    nodes: number;
    /** Standbys (replicas) of the primary; Aiven fails over to one of them. */
    replicas: number;
    /** Whether the standbys sit in other availability zones (in a region that has them). */
    zoneRedundant: boolean;
}

/** Each family's nodes: hobbyist and startup one node, business a primary and a standby, premium two standbys. */
export const AIVEN_PLAN_FAMILIES: Readonly<Record<AivenPlanFamily, AivenPlanFamilyInfo>> = {
    hobbyist: { nodes: 1, replicas: 0, zoneRedundant: false },
    startup: { nodes: 1, replicas: 0, zoneRedundant: false },
    business: { nodes: 2, replicas: 1, zoneRedundant: true },
    premium: { nodes: 3, replicas: 2, zoneRedundant: true },
};

/** The families whose standbys sit in other availability zones: the only ones for production. */
export const AIVEN_PRODUCTION_FAMILIES: readonly AivenPlanFamily[] = ["business", "premium"];

/** The smallest size of the sized families, used when a size has to be proposed for `hobbyist`. */
const SMALLEST_SIZE = "4";

/** A plan name taken apart: `business-8` is family `business`, size `8`; `hobbyist` has no size. */
export interface AivenPlan {
    family: AivenPlanFamily;
    /** What follows the family (`8` in `business-8`), or undefined for `hobbyist`. */
    size?: string;
}

/**
 * Takes a plan name apart, or returns undefined when it is not a plan of the four families (a custom plan, a
 * typo): such a plan's replicas are unknown, so it cannot be mapped.
 */
export function parseAivenPlan(plan: string): AivenPlan | undefined {
    if (plan === "hobbyist") return { family: "hobbyist" };
    const m = /^(startup|business|premium)-(\d+[a-z0-9-]*)$/.exec(plan);
    if (!m) return undefined;
    return { family: m[1] as AivenPlanFamily, size: m[2] };
}

/** The replicas (standbys) of a plan, or undefined when the plan is not one of the four families. */
export function aivenPlanReplicas(plan: string): number | undefined {
    const parsed = parseAivenPlan(plan);
    return parsed === undefined ? undefined : AIVEN_PLAN_FAMILIES[parsed.family].replicas;
}

/** The family that gives `replicas` standbys: startup for 0, business for 1, premium for 2; undefined above 2. */
export function aivenFamilyForReplicas(replicas: number): AivenSizedFamily | undefined {
    if (replicas === 0) return "startup";
    if (replicas === 1) return "business";
    if (replicas === 2) return "premium";
    return undefined;
}

/** A family that has sizes (every one but hobbyist). */
export type AivenSizedFamily = Exclude<AivenPlanFamily, "hobbyist">;

/**
 * The plan of `family` with the size of `plan` (`business-8` as premium is `premium-8`); `hobbyist`, which has
 * no size, maps to the smallest size (`premium-4`).
 */
export function aivenPlanWithFamily(plan: string, family: AivenSizedFamily): string {
    return `${family}-${parseAivenPlan(plan)?.size ?? SMALLEST_SIZE}`;
}

/**
 * Whether Aiven spreads a multi-node service over availability zones in a cloud region: on AWS, Google Cloud
 * and Azure, and on UpCloud only in `upcloud-fi-hel` (two datacenters); not on DigitalOcean
 * (https://help.aiven.io/en/articles/3345806-availability-zones).
 */
export function aivenCloudHasZones(cloudName: string): boolean {
    return /^(aws|google|azure)-/.test(cloudName) || /^upcloud-fi-hel/.test(cloudName);
}
