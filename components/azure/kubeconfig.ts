/**
 * The kubeconfig the program's Kubernetes provider uses on AKS, built from the cluster's user credentials.
 *
 * Pure: text in, text out. With Azure RBAC and local accounts disabled, AKS hands out an `exec` kubeconfig that
 * runs `kubelogin` in device-code mode, which would wait for a human in CI. We keep its server and CA and let
 * kubelogin reuse the deployer's own login instead (`az login`, or the Azure CLI session that GitHub's OIDC
 * `azure/login` sets up), or workload identity, a service principal or a managed identity from the environment.
 */

/** How kubelogin gets the token: the Azure CLI's session (default) or the usual environment variables. */
export type KubeloginMode = "azurecli" | "workloadidentity" | "spn" | "msi";

/** The login modes `azure.kubeloginMode` accepts. */
export const KUBELOGIN_MODES: readonly KubeloginMode[] = [
    "azurecli",
    "workloadidentity",
    "spn",
    "msi",
];

/** The AKS AAD server application, the audience of every AKS token in the public cloud. */
export const AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** What the program needs of the credentials AKS returned. */
export interface AksEndpoint {
    server: string;
    certificateAuthorityData: string;
    serverId: string;
    environment: string;
}

/** One `key: value` line of the YAML AKS returns (its kubeconfigs use plain single-line scalars). */
function scalar(text: string, key: string): string | undefined {
    const m = new RegExp(`^\\s*${key}:\\s*"?([^"\\s]+)"?\\s*$`, "m").exec(text);
    return m?.[1];
}

/** The value after a flag in the `args:` list of an exec kubeconfig (`- --server-id` / `- <value>`). */
function flagValue(text: string, flag: string): string | undefined {
    const m = new RegExp(`^\\s*-\\s*${flag}\\s*\\n\\s*-\\s*"?([^"\\s]+)"?\\s*$`, "m").exec(text);
    return m?.[1];
}

/** Reads the API server, its CA and the token audience from an AKS kubeconfig; throws when they are missing. */
export function parseAksKubeconfig(kubeconfig: string): AksEndpoint {
    const server = scalar(kubeconfig, "server");
    const certificateAuthorityData = scalar(kubeconfig, "certificate-authority-data");
    if (!server || !certificateAuthorityData) {
        throw new Error(
            "the AKS user credentials have no server or certificate-authority-data; is the cluster provisioned?",
        );
    }
    return {
        server,
        certificateAuthorityData,
        serverId: flagValue(kubeconfig, "--server-id") ?? AKS_AAD_SERVER_ID,
        environment: flagValue(kubeconfig, "--environment") ?? "AzurePublicCloud",
    };
}

/**
 * A kubeconfig (JSON, which is YAML too) for `endpoint` that gets its token from `kubelogin` in `mode`.
 * Needs `kubelogin` on the PATH of whoever runs `pulumi`.
 */
export function kubeloginKubeconfig(
    endpoint: AksEndpoint,
    mode: KubeloginMode,
    contextName = "aks",
): string {
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: contextName,
                cluster: {
                    server: endpoint.server,
                    "certificate-authority-data": endpoint.certificateAuthorityData,
                },
            },
        ],
        users: [
            {
                name: `${contextName}-user`,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "kubelogin",
                        args: [
                            "get-token",
                            "--environment",
                            endpoint.environment,
                            "--server-id",
                            endpoint.serverId,
                            "--login",
                            mode,
                        ],
                        interactiveMode: "Never",
                        provideClusterInfo: false,
                        installHint:
                            "kubelogin is needed to reach AKS with Azure RBAC: `az aks install-cli` or https://azure.github.io/kubelogin/",
                    },
                },
            },
        ],
        contexts: [
            { name: contextName, context: { cluster: contextName, user: `${contextName}-user` } },
        ],
        "current-context": contextName,
    };
    return JSON.stringify(config, null, 2);
}

/** The provider kubeconfig from the base64 kubeconfig `listManagedClusterUserCredentials` returns. */
export function providerKubeconfig(
    base64: string,
    mode: KubeloginMode,
    contextName = "aks",
): string {
    const text = Buffer.from(base64, "base64").toString("utf8");
    return kubeloginKubeconfig(parseAksKubeconfig(text), mode, contextName);
}
