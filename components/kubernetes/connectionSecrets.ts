/**
 * The connection Secrets of a Valkey deployment: one `<name>-connection` Secret in each application namespace,
 * with the keys of `connectionStringData`. Shared by the ValkeyCluster and the Aiven service, so both write the
 * same objects under the same resource names.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../naming";
import { ConnectionInfo, connectionSecretName, connectionStringData } from "../valkey/connection";

/** What the connection Secrets say and where they go. */
export interface ConnectionSecretsArgs {
    /** The deployment's name (`settings.name`), which names the Secret. */
    clusterName: string;
    /** The application namespaces, one Secret each. */
    namespaces: readonly string[];
    /** Labels of every Secret. */
    labels: Record<string, string>;
    /** The connection; the password must be a secret Output. */
    connection: ConnectionInfo<pulumi.Input<string>>;
}

/**
 * Creates the connection Secret in each namespace as child `${name}-connection-<namespace>` and returns them as
 * `<namespace>/<secret name>`. `opts` carries the parent, the provider and any dependencies; the Secret's data is
 * always marked secret.
 */
export function createConnectionSecrets(
    name: string,
    args: ConnectionSecretsArgs,
    opts: pulumi.CustomResourceOptions,
): string[] {
    const secretName = connectionSecretName(args.clusterName);
    return args.namespaces.map((appNs) => {
        new k8s.core.v1.Secret(
            childName(name, "connection", appNs),
            {
                metadata: { name: secretName, namespace: appNs, labels: args.labels },
                type: "Opaque",
                stringData: connectionStringData(args.connection),
            },
            { ...opts, additionalSecretOutputs: ["stringData", "data"] },
        );
        return `${appNs}/${secretName}`;
    });
}
