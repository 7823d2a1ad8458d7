/**
 * From the platform's settings to an Aiven for Valkey service: which shared settings map (and how), which cannot
 * be honoured (refused with the fix), and the service's arguments. Pure: plain data in, plain data out; the
 * component (service.ts) only hands `valkeyServiceArgs` to `aiven.Valkey`.
 *
 * The rules (issue 15):
 * - One shard: Aiven for Valkey is a primary with its standbys, without cluster mode. `shards` other than 1 is
 *   refused; the plan sizes the service.
 * - Replicas come from the plan family: startup/hobbyist 0, business 1, premium 2, the standbys in other
 *   availability zones. A `replicasPerShard` the plan does not give is refused, naming the plan that does.
 * - Zones, memory, CPU, volume, maxmemory ratio, node timeout, namespace, exporter, kernel tuning and the TLS
 *   certificate belong to Aiven: setting one is refused with the fix (remove it, or pick the plan).
 * - Persistence `rdb` maps to `rdb`, `none` to `off`; `aof+rdb` is refused (Aiven has no AOF). TLS is always on.
 * - `maxmemoryPolicy` maps as is; `ioThreads` maps when the stack sets it; the image's major.minor tag picks
 *   `valkey_version` (8.1 or later).
 */
import type { AivenSettings, Environment, Persistence, Settings, SettingsProblem } from "../config";
import { parseBytes } from "../quantity";
import {
    AIVEN_PLAN_FAMILIES,
    AIVEN_PRODUCTION_FAMILIES,
    aivenCloudHasZones,
    aivenFamilyForReplicas,
    aivenPlanWithFamily,
    parseAivenPlan,
} from "./plan";

const json = (v: unknown): string => JSON.stringify(v);
const problem = (path: string, message: string): SettingsProblem => ({
    path,
    message: `valkey.${path}: ${message}`,
});

/** The oldest Valkey version Aiven offers (`valkey_version` takes `8.1`, `9.0` and later). */
export const AIVEN_MIN_VALKEY_VERSION = "8.1";

/** Aiven's word for each persistence setting it can honour; `aof+rdb` has none. */
export const AIVEN_PERSISTENCE: Readonly<Record<Exclude<Persistence, "aof+rdb">, "rdb" | "off">> = {
    rdb: "rdb",
    none: "off",
};

/** The type token of Aiven's Valkey service resource. */
export const AIVEN_VALKEY_TYPE = "aiven:index/valkey:Valkey";

/**
 * Shared settings that belong to Aiven when `cloud` is `aiven`: setting one (or, for the switches, turning it on)
 * is refused with why and the fix.
 */
export const AIVEN_NOT_HONOURED: readonly {
    path: string;
    /** Refuse only this value (the switches); otherwise any value the stack sets. */
    only?: unknown;
    /** A number or a switch, quoted bare in messages (`0.9`, not `"0.9"`). */
    scalar?: true;
    why: string;
    fix: string;
}[] = [
    {
        path: "zones",
        why: "Aiven places the nodes of business and premium plans in different availability zones of valkey.aiven.cloudName itself",
        fix: "Remove valkey:zones.",
    },
    {
        path: "cpu",
        why: "the plan decides each node's CPUs",
        fix: "Remove valkey:cpu; a larger plan has more.",
    },
    {
        path: "volumeSize",
        why: "the plan decides each node's disk",
        fix: "Remove valkey:volumeSize; a larger plan has a larger disk.",
    },
    {
        path: "maxmemoryRatio",
        scalar: true,
        why: "Aiven sets maxmemory from the plan's memory itself",
        fix: "Remove valkey:maxmemoryRatio.",
    },
    {
        path: "nodeTimeoutMs",
        scalar: true,
        why: "the service runs without cluster mode, and Aiven detects a failed primary and fails over itself",
        fix: "Remove valkey:nodeTimeoutMs.",
    },
    {
        path: "namespace",
        why: "no Valkey pod runs in Kubernetes; the connection Secrets go to valkey.allowedNamespaces",
        fix: "Remove valkey:namespace.",
    },
    {
        path: "exporterImage",
        why: "Aiven runs no exporter sidecar; its metrics come through an Aiven metrics integration",
        fix: "Remove valkey:exporterImage.",
    },
    {
        path: "metrics",
        only: true,
        scalar: true,
        why: "Aiven runs no exporter sidecar; use an Aiven metrics integration (Prometheus, Datadog) instead",
        fix: "Remove valkey:metrics.",
    },
    {
        path: "serviceMonitor",
        only: true,
        scalar: true,
        why: "there are no pods to scrape; Aiven exposes metrics through its Prometheus integration",
        fix: "Remove valkey:serviceMonitor.",
    },
    {
        path: "kernelTuning",
        only: true,
        scalar: true,
        why: "Aiven tunes its own nodes",
        fix: "Remove valkey:kernelTuning.",
    },
    {
        path: "tls.secretName",
        why: "Aiven serves TLS with its own certificate, signed by the project's CA (`avn project ca-get`)",
        fix: "Remove valkey:tls.secretName.",
    },
];

/** What `aivenProblems` checks. */
export interface AivenCheckInput {
    environment: Environment;
    aiven: AivenSettings;
    persistence: Persistence;
    image: string;
    /** The value the stack gives a setting (`shards`, `tls.enabled`), or undefined when it leaves it unset. */
    given: (path: string) => unknown;
}

/**
 * A given value as messages quote it: numbers and booleans bare even when config delivers them as text (`3`, not
 * `"3"`), anything else as JSON.
 */
function shown(v: unknown): string {
    if (typeof v === "string" && /^(true|false|-?\d+(\.\d+)?)$/.test(v.trim())) return v.trim();
    return json(v);
}

/** True for `true` and `"true"`, as config delivers booleans. */
const isTrue = (v: unknown): boolean => v === true || v === "true";

/**
 * The Valkey major.minor version an image's tag names (`8.1` for `valkey/valkey:8.1.4` or
 * `docker.io/valkey/valkey:8.1-alpine@sha256:...`), or undefined when the image is not a version-tagged Valkey
 * image.
 */
export function valkeyVersionOfImage(image: string): string | undefined {
    const ref = image.split("@")[0];
    const lastSlash = ref.lastIndexOf("/");
    const colon = ref.indexOf(":", lastSlash + 1);
    if (colon < 0 || ref.slice(lastSlash + 1, colon) !== "valkey") return undefined;
    const m = /^(\d+)\.(\d+)(?:[.-]|$)/.exec(ref.slice(colon + 1));
    return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/** Whether version `a` (major.minor) is older than `b`. */
function olderThan(a: string, b: string): boolean {
    const [am, an] = a.split(".").map(Number);
    const [bm, bn] = b.split(".").map(Number);
    return am < bm || (am === bm && an < bn);
}

/** An IPv4 or IPv6 address, optionally with a prefix length (`10.0.0.0/16`, `2001:db8::/32`, `203.0.113.7`). */
export function isIpFilterEntry(entry: string): boolean {
    const [address, prefix, ...rest] = entry.split("/");
    if (rest.length > 0 || entry.length > 43) return false;
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
    const isV4 = v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
    const isV6 = !isV4 && /^[0-9a-fA-F:.]+$/.test(address) && address.includes(":");
    if (!isV4 && !isV6) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (isV4 ? 32 : 128);
}

/** Whether an ip_filter entry admits every address (`0.0.0.0/0`, `::/0`). */
export function isOpenIpFilterEntry(entry: string): boolean {
    return /\/0+$/.test(entry.trim());
}

/**
 * Every problem of an Aiven stack: the `valkey:aiven` section itself, and each shared setting Aiven cannot
 * honour. Empty when the settings map.
 */
export function aivenProblems(input: AivenCheckInput): SettingsProblem[] {
    const { environment, aiven, persistence, image, given } = input;
    const prod = environment === "prod";
    const out: SettingsProblem[] = [];

    // The service itself.
    if (aiven.project === "") {
        out.push(
            problem(
                "aiven.project",
                `not set; cloud "aiven" creates the service in an Aiven project. Set it to the project's name (\`avn project list\`), e.g. "acme-valkey".`,
            ),
        );
    } else if (!/^[a-zA-Z0-9_-]{1,63}$/.test(aiven.project)) {
        out.push(
            problem(
                "aiven.project",
                `got ${json(aiven.project)}; an Aiven project name has at most 63 characters of a-z, A-Z, 0-9, _ and -. Use the name \`avn project list\` shows.`,
            ),
        );
    }
    if (!/^[a-z][-a-z0-9]{0,63}$/.test(aiven.serviceName)) {
        out.push(
            problem(
                "aiven.serviceName",
                `got ${json(aiven.serviceName)}; an Aiven service name starts with a lower-case letter and has at most 64 characters of a-z, 0-9 and -. Use e.g. "valkey-prod".`,
            ),
        );
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)+$/.test(aiven.cloudName)) {
        out.push(
            problem(
                "aiven.cloudName",
                `got ${json(aiven.cloudName)}; use an Aiven cloud name, <provider>-<region> (\`avn cloud list\`), e.g. "aws-us-east-1".`,
            ),
        );
    } else if (prod && !aivenCloudHasZones(aiven.cloudName)) {
        out.push(
            problem(
                "aiven.cloudName",
                `got ${json(aiven.cloudName)} in prod; the standbys must sit in other availability zones, and Aiven spreads a service's nodes over zones only on AWS, Google Cloud, Azure and UpCloud fi-hel. Use e.g. "aws-us-east-1".`,
            ),
        );
    }
    const plan = parseAivenPlan(aiven.plan);
    if (plan === undefined) {
        out.push(
            problem(
                "aiven.plan",
                `got ${json(aiven.plan)}; use a plan of the hobbyist, startup-N, business-N or premium-N families (N is about the GB of memory per node), whose family decides the standbys, e.g. "business-4".`,
            ),
        );
    } else if (prod && !AIVEN_PRODUCTION_FAMILIES.includes(plan.family)) {
        out.push(
            problem(
                "aiven.plan",
                `got ${json(aiven.plan)} in prod; ${plan.family} plans run one node, with no standby to fail over to in another zone. Use ${json(aivenPlanWithFamily(aiven.plan, "business"))} (a standby in another zone) or ${json(aivenPlanWithFamily(aiven.plan, "premium"))} (two).`,
            ),
        );
    }
    if (!/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/.test(aiven.maintenanceWindow.time)) {
        out.push(
            problem(
                "aiven.maintenanceWindow.time",
                `got ${json(aiven.maintenanceWindow.time)}; use a UTC time as HH:mm:ss, e.g. "02:00:00".`,
            ),
        );
    }
    const badEmails = aiven.technicalEmails.filter(
        (e) => !/^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/.test(e),
    );
    if (badEmails.length > 0) {
        out.push(
            problem(
                "aiven.technicalEmails",
                `got ${json(badEmails)}; list e-mail addresses, e.g. ["oncall@example.com"].`,
            ),
        );
    } else if (aiven.technicalEmails.length > 10) {
        out.push(
            problem(
                "aiven.technicalEmails",
                `got ${aiven.technicalEmails.length} addresses; Aiven takes at most 10 per service. List at most 10 (a mailing list counts as one).`,
            ),
        );
    }
    if (aiven.ipFilter.length === 0) {
        out.push(
            problem(
                "aiven.ipFilter",
                given("aiven.ipFilter") === undefined && prod
                    ? `not set in prod; without it Aiven admits clients from every address (0.0.0.0/0 and ::/0). List the networks your applications connect from, e.g. ["10.0.0.0/16"].`
                    : `got []; no client could connect. List the networks your applications connect from, e.g. ["10.0.0.0/16"], or ["0.0.0.0/0"] for any address.`,
            ),
        );
    }
    const badFilters = aiven.ipFilter.filter((f) => !isIpFilterEntry(f));
    if (badFilters.length > 0) {
        out.push(
            problem(
                "aiven.ipFilter",
                `got ${json(badFilters)}; list IPv4 or IPv6 addresses or CIDR blocks, e.g. "10.0.0.0/16" or "2001:db8::/32".`,
            ),
        );
    }
    if (aiven.backupMinute !== undefined && aiven.backupHour === undefined) {
        out.push(
            problem(
                "aiven.backupMinute",
                `got ${aiven.backupMinute} without valkey.aiven.backupHour; a backup starts at backupHour:backupMinute UTC. Set valkey.aiven.backupHour too.`,
            ),
        );
    }
    if (aiven.backupHour !== undefined && persistence === "none") {
        out.push(
            problem(
                "aiven.backupHour",
                `got ${aiven.backupHour} with persistence "none"; with persistence off Aiven takes no backups. Remove the backup time, or use persistence "rdb".`,
            ),
        );
    }

    // The shared settings.
    const shards = given("shards");
    if (shards !== undefined && String(shards) !== "1") {
        out.push(
            problem(
                "shards",
                `got ${shown(shards)} with cloud "aiven"; an Aiven for Valkey service is one primary with its standbys, without cluster mode, so it holds one shard. Remove valkey:shards and size the service with valkey:aiven.plan.`,
            ),
        );
    }
    const replicas = given("replicasPerShard");
    if (replicas !== undefined && plan !== undefined) {
        const wanted = Number(replicas);
        const family = Number.isInteger(wanted) ? aivenFamilyForReplicas(wanted) : undefined;
        const planReplicas = AIVEN_PLAN_FAMILIES[plan.family].replicas;
        if (family === undefined) {
            out.push(
                problem(
                    "replicasPerShard",
                    `got ${shown(replicas)} with cloud "aiven"; Aiven plans give 0 (startup), 1 (business) or 2 (premium) standbys, each in another zone. Use 2 with plan ${json(aivenPlanWithFamily(aiven.plan, "premium"))}, or remove valkey:replicasPerShard.`,
                ),
            );
        } else if (wanted !== planReplicas) {
            out.push(
                problem(
                    "replicasPerShard",
                    `got ${wanted} with valkey.aiven.plan ${json(aiven.plan)}, which gives ${planReplicas}; on Aiven the plan decides the standbys (startup and hobbyist 0, business 1, premium 2, each in another zone). Use plan ${json(aivenPlanWithFamily(aiven.plan, family))}, or remove valkey:replicasPerShard.`,
                ),
            );
        }
    }
    if (persistence === "aof+rdb") {
        out.push(
            problem(
                "persistence",
                `got "aof+rdb" with cloud "aiven"; Aiven for Valkey persists with RDB snapshots only (every 10 minutes and at each backup), it keeps no append-only file. Use "rdb", or "none" for a pure cache.`,
            ),
        );
    }
    const tls = given("tls.enabled");
    if (tls !== undefined && !isTrue(tls)) {
        out.push(
            problem(
                "tls.enabled",
                `got ${shown(tls)} with cloud "aiven"; Aiven for Valkey is reached over TLS only. Remove valkey:tls.enabled.`,
            ),
        );
    }
    const version = valkeyVersionOfImage(image);
    if (version === undefined) {
        out.push(
            problem(
                "image",
                `got ${json(image)} with cloud "aiven"; Aiven runs its own Valkey build and takes only the major.minor version of the image's tag (valkey_version). Use a valkey image tag such as "valkey/valkey:8.1.4", or remove valkey:image.`,
            ),
        );
    } else if (olderThan(version, AIVEN_MIN_VALKEY_VERSION)) {
        out.push(
            problem(
                "image",
                `got ${json(image)} with cloud "aiven"; Aiven offers Valkey ${AIVEN_MIN_VALKEY_VERSION} and later. Use e.g. "valkey/valkey:8.1.4".`,
            ),
        );
    }
    const memory = given("memory");
    if (memory !== undefined) {
        const gb = Math.ceil((parseBytes(String(memory)) ?? 0) / 2 ** 30);
        const hint = gb > 0 ? ` (${json(memory)} needs N of ${gb} or more)` : "";
        out.push(
            problem(
                "memory",
                `got ${json(memory)} with cloud "aiven"; the plan decides each node's memory. Remove valkey:memory and pick the plan by memory: the N of "business-N" is about the GB per node${hint}.`,
            ),
        );
    }
    for (const rule of AIVEN_NOT_HONOURED) {
        const value = given(rule.path);
        if (value === undefined) continue;
        if (
            rule.only !== undefined &&
            !(rule.only === true ? isTrue(value) : value === rule.only)
        ) {
            continue;
        }
        out.push(
            problem(
                rule.path,
                `got ${rule.scalar ? shown(value) : json(value)} with cloud "aiven"; ${rule.why}. ${rule.fix}`,
            ),
        );
    }
    return out;
}

/** The platform's own tags on an Aiven service, so cost reports and clean-ups can find it. */
export function aivenDefaultTags(
    name: string,
    environment: Environment,
    stack: string,
): Record<string, string> {
    return {
        "valkey-platform-cluster": name,
        "valkey-platform-environment": environment,
        "valkey-platform-stack": stack,
    };
}

/** The arguments of the Aiven service, as plain data (a subset of `aiven.ValkeyArgs`). */
export interface AivenValkeyServiceArgs {
    project: string;
    cloudName: string;
    plan: string;
    serviceName: string;
    maintenanceWindowDow: string;
    maintenanceWindowTime: string;
    terminationProtection: boolean;
    tags: { key: string; value: string }[];
    techEmails?: { email: string }[];
    valkeyUserConfig: {
        ipFilterStrings: string[];
        valkeyMaxmemoryPolicy: string;
        valkeyPersistence: "rdb" | "off";
        valkeySsl: true;
        valkeyVersion: string;
        valkeyIoThreads?: number;
        backupHour?: number;
        backupMinute?: number;
    };
}

/**
 * The Aiven service of validated settings (`cloud: aiven`): the `valkey:aiven` section, and the shared settings
 * that map. Tags are sorted by key; unset options are left out so Aiven keeps its defaults (Aiven cannot reset
 * an advanced option once set).
 */
export function valkeyServiceArgs(settings: Settings): AivenValkeyServiceArgs {
    const a = settings.aiven;
    if (settings.persistence === "aof+rdb") {
        throw new Error("internal: aof+rdb reached the Aiven mapping; validation refuses it");
    }
    const userConfig: AivenValkeyServiceArgs["valkeyUserConfig"] = {
        ipFilterStrings: [...a.ipFilter],
        valkeyMaxmemoryPolicy: settings.maxmemoryPolicy,
        valkeyPersistence: AIVEN_PERSISTENCE[settings.persistence],
        valkeySsl: true,
        valkeyVersion: valkeyVersionOfImage(settings.image) ?? AIVEN_MIN_VALKEY_VERSION,
    };
    if (a.ioThreads !== undefined) userConfig.valkeyIoThreads = a.ioThreads;
    if (a.backupHour !== undefined) {
        userConfig.backupHour = a.backupHour;
        userConfig.backupMinute = a.backupMinute ?? 0;
    }
    const args: AivenValkeyServiceArgs = {
        project: a.project,
        cloudName: a.cloudName,
        plan: a.plan,
        serviceName: a.serviceName,
        maintenanceWindowDow: a.maintenanceWindow.day,
        maintenanceWindowTime: a.maintenanceWindow.time,
        terminationProtection: a.terminationProtection,
        tags: Object.keys(a.tags)
            .sort()
            .map((key) => ({ key, value: a.tags[key] })),
        valkeyUserConfig: userConfig,
    };
    if (a.technicalEmails.length > 0) {
        args.techEmails = a.technicalEmails.map((email) => ({ email }));
    }
    return args;
}
