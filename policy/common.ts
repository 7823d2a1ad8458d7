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
    /**
     * Set instead of a message when a part of a check could not run because a value it reads is unknown until
     * the update (during preview); `reportAll` hands it to the policy server, which reports it as advisory.
     */
    unknown?: Error;
}

// The policy server wraps props in a proxy that throws this on a value unknown during preview (not in its typings).
const { UnknownValueError } = require("@pulumi/policy/proxy") as {
    UnknownValueError: new (...args: any[]) => Error;
};

/**
 * Runs one part of a check (one cluster, one StatefulSet, one pool) on its own, so a value unknown during preview
 * stops only the part that reads it and the other parts still report.
 */
export function part(check: () => Violation[]): Violation[] {
    try {
        return check();
    } catch (e) {
        if (e instanceof UnknownValueError) return [{ message: "", unknown: e }];
        throw e;
    }
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

/**
 * Reports each violation against its resource; then, if a part could not run for an unknown value, throws that
 * error so the policy server adds its advisory "can't run during preview" note.
 */
export function reportAll(violations: Violation[], reportViolation: ReportViolation): void {
    let unknown: Error | undefined;
    for (const v of violations) {
        if (v.unknown) {
            unknown ??= v.unknown;
        } else {
            reportViolation(v.message, v.urn);
        }
    }
    if (unknown) throw unknown;
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
