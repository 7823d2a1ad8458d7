/**
 * Storage of the Valkey volumes: gp3 (EBS CSI, encrypted) or Premium SSD (Azure Disk CSI), bound
 * WaitForFirstConsumer so each volume is created in its pod's zone, expandable, and kept (Retain) in prod.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    PlainResource,
    Violation,
    configWithDefaults,
    json,
    part,
    plainResources,
    reportAll,
    violation,
} from "./common";
import { dataClaimOf, objectName, storageClassNamed, valkeyStatefulSets } from "./resources";

/** Config of the storage-class policy. */
export interface StorageClassConfig {
    /** Require reclaimPolicy Retain (prod). Default true; dev sets false. */
    requireRetain: boolean;
}

/** Defaults of the storage-class policy: production's. */
export const STORAGE_CLASS_DEFAULTS: StorageClassConfig = { requireRetain: true };

/** The CSI drivers and disk types the Valkey volumes may use. */
export const EBS_CSI = "ebs.csi.aws.com";
export const AZURE_DISK_CSI = "disk.csi.azure.com";
export const AZURE_PREMIUM_SKUS: readonly string[] = ["Premium_LRS", "PremiumV2_LRS"];

/** A StorageClass parameter, whatever the case of its key (Azure accepts `skuName` and `skuname`). */
function param(params: Record<string, unknown>, key: string): unknown {
    const k = Object.keys(params).find((p) => p.toLowerCase() === key.toLowerCase());
    return k === undefined ? undefined : params[k];
}

/** The rules one StorageClass breaks. */
export function storageClassProblems(sc: PlainResource, config: StorageClassConfig): string[] {
    const problems: string[] = [];
    const p = sc.props;
    const params = (p.parameters ?? {}) as Record<string, unknown>;
    if (p.provisioner === EBS_CSI) {
        const type = param(params, "type");
        if (type !== "gp3")
            problems.push(
                `use EBS volume type gp3 (parameters.type), not ${json(type ?? "unset (gp3 only by driver default)")}`,
            );
        const encrypted = param(params, "encrypted");
        if (encrypted !== "true" && encrypted !== true)
            problems.push(`encrypt its volumes (parameters.encrypted "true")`);
    } else if (p.provisioner === AZURE_DISK_CSI) {
        // Azure managed disks are always encrypted at rest (server-side encryption); nothing to set.
        const sku = param(params, "skuName");
        if (typeof sku !== "string" || !AZURE_PREMIUM_SKUS.includes(sku)) {
            problems.push(
                `use a Premium SSD disk (parameters.skuName ${AZURE_PREMIUM_SKUS.join(" or ")}), not ${json(sku ?? "unset")}`,
            );
        }
    } else {
        problems.push(
            `use the EBS CSI driver (${EBS_CSI}, gp3) or the Azure Disk CSI driver (${AZURE_DISK_CSI}, Premium SSD), not ${json(p.provisioner)}`,
        );
    }
    if (p.volumeBindingMode !== "WaitForFirstConsumer") {
        problems.push(
            `bind volumes WaitForFirstConsumer so each volume is created in its pod's zone, not ${json(p.volumeBindingMode ?? "Immediate")}`,
        );
    }
    if (p.allowVolumeExpansion !== true) {
        problems.push(
            "allow volume expansion (allowVolumeExpansion true) so volumes can grow with the data",
        );
    }
    if (config.requireRetain && p.reclaimPolicy !== "Retain") {
        problems.push(
            `keep volumes when their claims are deleted (reclaimPolicy Retain), not ${json(p.reclaimPolicy ?? "Delete")}`,
        );
    }
    return problems;
}

/**
 * The pure check: every Valkey StatefulSet names the StorageClass of its data volume, and every such class the
 * stack creates follows the storage rules. Classes the stack does not create (an existing cluster's) are not
 * visible to the pack and are skipped.
 */
export function checkStorageClass(
    resources: readonly PlainResource[],
    config: StorageClassConfig,
): Violation[] {
    const out: Violation[] = [];
    const checked = new Set<string>();
    for (const sts of valkeyStatefulSets(resources)) {
        out.push(...part(() => checkClaim(sts, resources, config, checked)));
    }
    return out;
}

/** One StatefulSet's claim: it names a class, and that class (checked once per name) follows the rules. */
function checkClaim(
    sts: PlainResource,
    resources: readonly PlainResource[],
    config: StorageClassConfig,
    checked: Set<string>,
): Violation[] {
    const out: Violation[] = [];
    const className = dataClaimOf(sts)?.spec?.storageClassName;
    if (typeof className !== "string" || className === "") {
        out.push(
            violation(
                "StatefulSet",
                objectName(sts),
                "name the StorageClass of its data volume claim; the cluster default is rarely gp3 or Premium SSD with WaitForFirstConsumer",
                sts.urn,
            ),
        );
        return out;
    }
    if (checked.has(className)) return out;
    checked.add(className);
    const sc = storageClassNamed(resources, className);
    if (!sc) return out;
    for (const problem of storageClassProblems(sc, config)) {
        out.push(violation("StorageClass", className, problem, sc.urn));
    }
    return out;
}

/** The storage-class policy (stack). */
export const storageClass: StackValidationPolicy = {
    name: "valkey-storage-class",
    description:
        "Checks that Valkey volumes use an encrypted gp3 or Premium SSD StorageClass that binds WaitForFirstConsumer, allows expansion and, in prod, retains volumes.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            requireRetain: {
                type: "boolean",
                default: STORAGE_CLASS_DEFAULTS.requireRetain,
                description:
                    "Require reclaimPolicy Retain (prod); dev may let volumes go with their claims.",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const config = configWithDefaults(
            args.getConfig<Partial<StorageClassConfig>>(),
            STORAGE_CLASS_DEFAULTS,
        );
        reportAll(checkStorageClass(plainResources(args), config), reportViolation);
    },
};
