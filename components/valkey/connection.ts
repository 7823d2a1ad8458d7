/**
 * The connection Secret applications read, as plain data: its name and its keys. Every target writes the same
 * Secret (a ValkeyCluster on Kubernetes, a managed Aiven service), so an application moves between clouds
 * without changing its manifests. Pure: the values are whatever the caller holds (strings or Pulumi Outputs).
 */

/** The name of a Valkey deployment's connection Secret in each application namespace: `<name>-connection`. */
export function connectionSecretName(clusterName: string): string {
    return `${clusterName}-connection`;
}

/** Where and how an application connects; `T` is the type of the values known only at deploy time. */
export interface ConnectionInfo<T> {
    /** Host clients connect (or seed) to. */
    host: T;
    /** Client port. */
    port: T | number;
    /** ACL user. */
    user: T | string;
    /** The user's password (keep it secret). */
    password: T;
    /** Whether clients must use TLS. */
    ssl: boolean;
    /** Whether the server runs in cluster mode (clients must be cluster-aware). */
    cluster: boolean;
}

/** The keys every connection Secret holds, in this order. */
export const CONNECTION_KEYS = [
    "VALKEY_HOST",
    "VALKEY_PORT",
    "VALKEY_USER",
    "VALKEY_PASSWORD",
    "VALKEY_SSL",
    "VALKEY_CLUSTER",
] as const;

/** The `stringData` of a connection Secret: the keys of `CONNECTION_KEYS`, numbers and flags as strings. */
export function connectionStringData<T>(
    info: ConnectionInfo<T>,
): Record<(typeof CONNECTION_KEYS)[number], T | string> {
    return {
        VALKEY_HOST: info.host,
        VALKEY_PORT: typeof info.port === "number" ? String(info.port) : info.port,
        VALKEY_USER: info.user,
        VALKEY_PASSWORD: info.password,
        VALKEY_SSL: String(info.ssl),
        VALKEY_CLUSTER: String(info.cluster),
    };
}
