/**
 * Runs the pack's policies in-process, as the policy server would: builds `ResourceValidationArgs` and
 * `StackValidationArgs` for plain resources and collects what each policy reports. Tests import the policies
 * from their own modules (policy/policies.ts), never policy/index.ts, whose PolicyPack starts a server.
 */
import type {
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PlainResource } from "../../policy/common";
import { policies } from "../../policy/policies";
import type { RecordedResource } from "../helpers/program";

/** One reported violation, with the policy that reported it. */
export interface Reported {
    policy: string;
    message: string;
    urn?: string;
}

/** Thrown by `notApplicable`, as the policy server's own sentinel is. */
class NotApplicable extends Error {}

const opts = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

const typeOf = (cls: unknown): string | undefined =>
    (cls as { __pulumiType?: string }).__pulumiType;

/** The args the server hands a resource policy for one resource. */
export function resourceArgs(r: PlainResource, config: object = {}): ResourceValidationArgs {
    return {
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts,
        stackTags: new Map(),
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) =>
            typeOf(cls) === r.type ? r.props : undefined) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** The args the server hands a stack policy for a whole stack. */
export function stackArgs(
    resources: readonly PlainResource[],
    config: object = {},
): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts,
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) =>
            typeOf(cls) === r.type ? r.props : undefined) as PolicyResource["asType"],
    }));
    return {
        resources: policyResources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

const isStackPolicy = (p: Policy): p is StackValidationPolicy =>
    typeof (p as StackValidationPolicy).validateStack === "function";

/** Runs one policy over a stack's resources (a resource policy over each resource) and returns its messages. */
export async function runPolicy(
    policy: Policy,
    resources: readonly PlainResource[],
    config: object = {},
): Promise<Reported[]> {
    const out: Reported[] = [];
    const report = (message: string, urn?: string): void => {
        out.push({ policy: policy.name, message, urn });
    };
    try {
        if (isStackPolicy(policy)) {
            await policy.validateStack(stackArgs(resources, config), report);
        } else {
            const validate = (policy as ResourceValidationPolicy).validateResource;
            const validations =
                validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
            for (const r of resources) {
                for (const v of validations) {
                    await v(resourceArgs(r, config), (message, urn) =>
                        report(message, urn ?? r.urn),
                    );
                }
            }
        }
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return out;
}

/** The messages of one policy over a stack. */
export async function messages(
    policy: Policy,
    resources: readonly PlainResource[],
    config: object = {},
): Promise<string[]> {
    return (await runPolicy(policy, resources, config)).map((r) => r.message);
}

/**
 * Runs the whole pack, with per-policy config as in policy/config.<env>.json, and returns every violation. A
 * policy the config disables does not run, as with the policy server.
 */
export async function runPack(
    resources: readonly PlainResource[],
    packConfig: Record<string, unknown> = {},
): Promise<Reported[]> {
    const out: Reported[] = [];
    for (const p of policies) {
        const c = packConfig[p.name];
        const config = typeof c === "object" && c !== null ? c : {};
        if ((config as { enforcementLevel?: string }).enforcementLevel === "disabled") continue;
        out.push(...(await runPolicy(p, resources, config)));
    }
    return out;
}

/** The resources of a mocked program run as the pack sees them (props are the inputs). */
export function fromRecorded(resources: readonly RecordedResource[]): PlainResource[] {
    return resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
}

/** A deep copy of a stack's resources, to break one thing without touching the run. */
export function cloneResources(resources: readonly PlainResource[]): PlainResource[] {
    return JSON.parse(JSON.stringify(resources)) as PlainResource[];
}

/** The pack config of an environment, as CI passes it (`policy/config.<env>.json`). */
export function packConfig(env: "dev" | "prod"): Record<string, unknown> {
    return require(`../../policy/config.${env}.json`) as Record<string, unknown>;
}
