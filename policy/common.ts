/**
 * What every policy of the pack shares: the plain resource shape the pure checks read, the violation they
 * return, the message form, and how a policy's config is merged with its defaults.
 *
 * Pure: imports no cloud package and no `@pulumi/policy` runtime value, so the checks run anywhere.
 */
import type { ReportViolation, StackValidationArgs } from "@pulumi/policy";

/**
 * A resource as the checks see it: what the engine's `PolicyResource` and a test's recorded resource both
 * provide. `props` are the resource's inputs (outputs during an update, which for Kubernetes objects hold the
 * same fields).
 */
export interface PlainResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
}

/** One broken rule: the message (`<thing> (<name>) must <rule>`) and the resource it is about. */
export interface Violation {
    message: string;
    urn?: string;
}

/** Builds a violation in the pack's one message form: `<thing> (<name>) must <rule>`. */
export function violation(thing: string, name: string, rule: string, urn?: string): Violation {
    return { message: `${thing} (${name}) must ${rule}`, urn };
}

/**
 * A policy's effective config: its declared defaults overlaid with what the engine passed. The engine fills
 * the schema defaults itself; tests and `getConfig` without config pass nothing, hence the overlay.
 */
export function configWithDefaults<T extends object>(given: object | undefined, defaults: T): T {
    const out = { ...defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(given ?? {})) {
        if (v !== undefined && v !== null && k !== "enforcementLevel") out[k] = v;
    }
    return out as T;
}

/** Runs a pure stack check over the engine's resources and reports each violation against its resource. */
export function reportAll(violations: Violation[], reportViolation: ReportViolation): void {
    for (const v of violations) {
        reportViolation(v.message, v.urn);
    }
}

/** The plain resources of a stack validation. */
export function plainResources(args: Pick<StackValidationArgs, "resources">): PlainResource[] {
    return args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.props ?? {},
    }));
}

/** A JSON rendering of a value for messages ("latest" with its quotes, lists as JSON). */
export const json = (v: unknown): string => JSON.stringify(v);

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Bytes as GiB with up to two decimals, or MiB below 1 GiB, for messages ("22.06Gi", "512Mi"). */
export function gib(bytes: number): string {
    if (bytes < GiB) return `${Math.round((bytes / MiB) * 100) / 100}Mi`;
    return `${Math.round((bytes / GiB) * 100) / 100}Gi`;
}
