/**
 * Runs the whole valkey-platform program under Pulumi mocks with a stack's config, and records every resource
 * it registers. One shared helper for every unit and policy test.
 *
 * The config comes from the real `Pulumi.<stack>.yaml`, plus overrides, so the tests exercise the files users
 * edit. The program is imported after `setMocks`, each run with a fresh module cache.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { aivenOutputsFor } from "./aivenMocks";
import { awsOutputsFor } from "./awsMocks";

/** The project root. */
export const ROOT = path.resolve(__dirname, "..", "..");

/** One resource the program registered, with the inputs it was given (secrets unwrapped). */
export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** The mocked state the resource returned (inputs plus what `outputsFor` adds). */
    state: Record<string, any>;
    id: string;
    urn: string;
    /** The name of the resource's provider, when it was given one explicitly. */
    provider?: string;
    /** Paths of the inputs that arrived as secrets (e.g. `stringData.password`). */
    secretPaths: string[];
}

/** Pulumi's wire marker of a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Replaces wire-format secrets with their values and lists where they were. */
export function unwrapSecrets(value: unknown, path = "", found: string[] = []): unknown {
    if (Array.isArray(value)) {
        return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, found));
    }
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
            found.push(path);
            return unwrapSecrets(obj.value, path, found);
        }
        return Object.fromEntries(
            Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, found)]),
        );
    }
    return value;
}

/** Extra mocked outputs for resources of a type, e.g. a cluster's kubeconfig. */
export type OutputsFor = (args: pulumi.runtime.MockResourceArgs) => Record<string, any> | undefined;

/** What a program run produced. */
export interface ProgramRun {
    resources: RecordedResource[];
    /** The program's module exports (stack outputs), as Outputs or plain values. */
    outputs: Record<string, any>;
    /** Resources of one type. */
    ofType(type: string): RecordedResource[];
    /** The one resource with a name, or an assertion error. */
    named(name: string, type?: string): RecordedResource;
}

/** Reads the `valkey:` settings (and `aws:`/`azure-native:` ones) of `Pulumi.<stack>.yaml` as flat config keys. */
export function stackConfig(stack: string): Record<string, string> {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

/** Default extra outputs for cloud resources the mocks cannot compute (ids, ARNs, kubeconfigs). */
const defaultOutputs: OutputsFor = (args) => {
    const name = args.name;
    switch (args.type) {
        case "random:index/randomPassword:RandomPassword":
            return { result: `mock-password-${name}-0123456789abcdef` };
        default:
            // Azure names resources itself (autonaming); the program reads the name back, e.g. the AKS cluster's.
            if (args.type.startsWith("azure-native:")) return { name: `${name}-az` };
            return aivenOutputsFor(args) ?? awsOutputsFor(args);
    }
};

/** A user kubeconfig as AKS returns it (exec format, kubelogin), for mocked `listManagedClusterUserCredentials`. */
export const FAKE_AKS_KUBECONFIG = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: TU9DSy1DQQ==",
    "    server: https://valkey-mock.hcp.eastus2.azmk8s.io:443",
    "  name: valkey-aks",
    "users:",
    "- name: clusterUser_valkey",
    "  user:",
    "    exec:",
    "      apiVersion: client.authentication.k8s.io/v1beta1",
    "      args:",
    "      - get-token",
    "      - --environment",
    "      - AzurePublicCloud",
    "      - --server-id",
    "      - 6dae42f8-4368-4678-94ff-3960e28e3630",
    "      - --login",
    "      - devicecode",
    "      command: kubelogin",
    "",
].join("\n");

/** Default results of invokes the mocks cannot compute (Azure client config, AKS credentials). */
function defaultCallResults(token: string): Record<string, any> | undefined {
    switch (token) {
        case "azure-native:authorization:getClientConfig":
            return {
                clientId: "00000000-0000-0000-0000-00000000c11e",
                objectId: "00000000-0000-0000-0000-0000000000b1",
                subscriptionId: "00000000-0000-0000-0000-000000000005",
                tenantId: "00000000-0000-0000-0000-00000000000t",
            };
        case "azure-native:containerservice:listManagedClusterUserCredentials":
            return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(FAKE_AKS_KUBECONFIG).toString("base64") }] };
        default:
            return undefined;
    }
}

/**
 * Installs Pulumi mocks that record every registered resource (secrets unwrapped, their paths kept) and answer
 * with its inputs plus the cloud outputs the mocks cannot compute (`outputsFor` first, then the defaults).
 * Returns the list the resources are recorded into.
 */
export async function installRecordingMocks(
    stack: string,
    preview: boolean,
    outputsFor?: OutputsFor,
): Promise<RecordedResource[]> {
    const resources: RecordedResource[] = [];
    const asCall = (args: pulumi.runtime.MockCallArgs) =>
        ({ ...args, type: args.token, name: args.token, inputs: args.inputs, custom: false }) as never;
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const secretPaths: string[] = [];
                const inputs = unwrapSecrets(args.inputs, "", secretPaths) as Record<string, any>;
                const extra = { ...(defaultOutputs(args) ?? {}), ...(outputsFor?.({ ...args, inputs }) ?? {}) };
                const state = { ...args.inputs, ...extra };
                // Mocks pass "" as the id of a new resource; an empty id reads as unknown, which holds back invokes.
                const id = args.id || `${args.name}-id`;
                const urn = `urn:pulumi:${stack}::valkey-platform::${args.type}::${args.name}`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    inputs,
                    state,
                    id,
                    urn,
                    provider: args.provider,
                    secretPaths,
                });
                return { id, state };
            },
            call(args) {
                return (
                    outputsFor?.(asCall(args)) ??
                    defaultCallResults(args.token) ??
                    awsOutputsFor(asCall(args)) ??
                    args.inputs
                );
            },
        },
        "valkey-platform",
        stack,
        preview,
    );
    return resources;
}

/**
 * Runs the program for `stack` with `overrides` (flat keys like `valkey:shards`) and returns what it created.
 * Rejects with the program's own error when it refuses the config. `secretKeys` are the config keys stored
 * encrypted (`pulumi config set --secret`).
 */
export async function runProgram(
    stack: string,
    overrides: Record<string, unknown> = {},
    outputsFor?: OutputsFor,
    secretKeys: string[] = [],
): Promise<ProgramRun> {
    const resources = await installRecordingMocks(stack, true, outputsFor);
    const config: Record<string, string> = { ...stackConfig(stack) };
    for (const [k, v] of Object.entries(overrides)) {
        config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    pulumi.runtime.setAllConfig(config, secretKeys);

    const entry = path.join(ROOT, "index.ts");
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`)) {
            delete require.cache[key];
        }
    }
    const outputs = require(entry) as Record<string, any>;
    // Let every apply and registration settle.
    await settle(outputs);
    const run: ProgramRun = {
        resources,
        outputs,
        ofType: (type) => resources.filter((r) => r.type === type),
        named(name, type) {
            const found = resources.filter((r) => r.name === name && (type === undefined || r.type === type));
            if (found.length !== 1) {
                throw new Error(
                    `expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}; have: ${resources
                        .map((r) => `${r.type}::${r.name}`)
                        .join(", ")}`,
                );
            }
            return found[0];
        },
    };
    return run;
}

/** Resolves an Output (or plain value) to its value. */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T | undefined> {
    return new Promise((resolve) => {
        if (pulumi.Output.isInstance(o)) {
            (o as pulumi.Output<T>).apply((v) => {
                resolve(v);
                return v;
            });
        } else {
            resolve(o as T | undefined);
        }
    });
}

/** Whether an Output is marked secret. */
export async function isSecret(o: unknown): Promise<boolean> {
    if (!pulumi.Output.isInstance(o)) return false;
    return await (o as any).isSecret;
}

async function settle(outputs: Record<string, any>): Promise<void> {
    for (const v of Object.values(outputs ?? {})) {
        if (pulumi.Output.isInstance(v)) {
            await valueOf(v);
        }
    }
    // Registrations of children inside applies complete on later turns of the event loop.
    for (let i = 0; i < 20; i++) {
        await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
}
