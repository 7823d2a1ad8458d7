import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import type { KubernetesPlatform } from "../platform";
import { parseBytes } from "../quantity";

/**
 * The platform of an existing Kubernetes cluster (`cloud: kubernetes`): its kubeconfig, zones and storage class
 * as configured. With `valkey:kubernetes.renderDirectory` set, every manifest is written to that directory
 * instead of being applied (for GitOps pipelines); no cluster is contacted then.
 */
export function existingClusterPlatform(name: string, settings: Settings, opts?: pulumi.CustomResourceOptions): KubernetesPlatform {
    const k = settings.kubernetes;
    const provider = new k8s.Provider(
        `${name}-k8s`,
        k.renderDirectory !== undefined
            ? { renderYamlToDirectory: k.renderDirectory }
            : { kubeconfig: k.kubeconfig !== undefined ? pulumi.secret(k.kubeconfig) : undefined },
        opts,
    );
    return {
        provider,
        zones: settings.zones,
        storageClassName: k.storageClassName,
        nodeSelector: {},
        tolerations: [],
        arch: k.arch,
        allocatableMemoryBytes: k.nodeAllocatableMemory !== undefined ? parseBytes(k.nodeAllocatableMemory) : undefined,
    };
}
