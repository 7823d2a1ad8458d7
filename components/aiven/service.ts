/**
 * AivenValkey: Aiven's managed Valkey as a target (`cloud: aiven`, issue 15). One Aiven for Valkey service built
 * from the same settings as the other clouds (mapping.ts), and, when the stack names the Kubernetes cluster its
 * applications run in, the same connection Secret in each allowed namespace as the ValkeyCluster writes.
 */
import * as aiven from "@pulumi/aiven";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import { createConnectionSecrets } from "../kubernetes/connectionSecrets";
import { existingClusterPlatform } from "../kubernetes/platform";
import { childName } from "../naming";
import { clusterLabels } from "../valkey/cluster";
import { valkeyServiceArgs } from "./mapping";

/** Arguments of an AivenValkey. */
export interface AivenValkeyArgs {
    /** The validated settings (components/config.ts) of a `cloud: aiven` stack. */
    settings: Settings;
}

/** What the stack outputs say about the Aiven service (plain values from the settings). */
export interface AivenServiceSummary {
    project: string;
    serviceName: string;
    cloudName: string;
    plan: string;
    /** Nodes of the plan: the primary and its standbys. */
    nodes: number;
}

/** An Aiven for Valkey service and its connection Secrets. */
export class AivenValkey extends pulumi.ComponentResource {
    /** The Aiven service. */
    readonly service: aiven.Valkey;
    /** The host clients connect to (Aiven's DNS name of the primary). */
    readonly endpoint: pulumi.Output<string>;
    /** The client port (Aiven chooses it per service). */
    readonly port: pulumi.Output<number>;
    /** The service's default user. */
    readonly user: pulumi.Output<string>;
    /** The default user's password (secret). */
    readonly password: pulumi.Output<string>;
    /** The connection Secret names, as `<namespace>/<name>`; empty without a Kubernetes cluster to write them to. */
    readonly connectionSecrets: string[];
    /** Project, service, cloud and plan. */
    readonly summary: AivenServiceSummary;

    constructor(name: string, args: AivenValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:aiven:AivenValkey", name, {}, opts);
        const { settings } = args;
        if (settings.cloud !== "aiven") {
            throw new pulumi.ResourceError(
                `internal: AivenValkey needs a cloud "aiven" stack, got ${JSON.stringify(settings.cloud)}`,
                this,
            );
        }
        const serviceArgs = valkeyServiceArgs(settings);
        this.service = new aiven.Valkey(childName(name, "service"), serviceArgs, { parent: this });
        this.endpoint = this.service.serviceHost;
        this.port = this.service.servicePort;
        this.user = this.service.serviceUsername;
        this.password = pulumi.secret(this.service.servicePassword);
        this.summary = {
            project: serviceArgs.project,
            serviceName: serviceArgs.serviceName,
            cloudName: serviceArgs.cloudName,
            plan: serviceArgs.plan,
            nodes: settings.replicasPerShard + 1,
        };

        // The applications' cluster: a kubeconfig (or a render directory) names it; without one, no Secrets.
        const k = settings.kubernetes;
        this.connectionSecrets = [];
        if (k.kubeconfig !== undefined || k.renderDirectory !== undefined) {
            const { provider } = existingClusterPlatform(name, settings, { parent: this });
            this.connectionSecrets = createConnectionSecrets(
                name,
                {
                    clusterName: settings.name,
                    namespaces: settings.allowedNamespaces,
                    labels: clusterLabels(settings.name),
                    connection: {
                        host: this.endpoint,
                        port: this.port.apply(String),
                        user: this.user,
                        password: this.password,
                        ssl: true,
                        // Aiven for Valkey runs without cluster mode: clients connect to one endpoint.
                        cluster: false,
                    },
                },
                { parent: this, provider },
            );
        }

        this.registerOutputs({
            endpoint: this.endpoint,
            port: this.port,
            password: this.password,
            connectionSecrets: this.connectionSecrets,
        });
    }
}
