import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    AKS_AAD_SERVER_ID,
    kubeloginKubeconfig,
    parseAksKubeconfig,
    providerKubeconfig,
} from "../../../components/azure/kubeconfig";
import { FAKE_AKS_KUBECONFIG } from "../../helpers/program";

describe("AKS kubeconfig", () => {
    it("reads server, CA and token audience from the exec kubeconfig AKS returns", () => {
        assert.deepEqual(parseAksKubeconfig(FAKE_AKS_KUBECONFIG), {
            server: "https://valkey-mock.hcp.eastus2.azmk8s.io:443",
            certificateAuthorityData: "TU9DSy1DQQ==",
            serverId: AKS_AAD_SERVER_ID,
            environment: "AzurePublicCloud",
        });
    });
    it("falls back to the public-cloud audience when the kubeconfig has no exec args", () => {
        const azureFormat =
            "clusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://x:443\n";
        assert.equal(parseAksKubeconfig(azureFormat).serverId, AKS_AAD_SERVER_ID);
    });
    it("refuses credentials without a server", () => {
        assert.throws(
            () => parseAksKubeconfig("apiVersion: v1\nusers: []\n"),
            /no server or certificate-authority-data/,
        );
    });
    it("the provider's kubeconfig logs in non-interactively with the configured kubelogin mode", () => {
        const base64 = Buffer.from(FAKE_AKS_KUBECONFIG).toString("base64");
        for (const mode of ["azurecli", "workloadidentity"] as const) {
            const config = JSON.parse(providerKubeconfig(base64, mode, "valkey-prod"));
            assert.equal(config["current-context"], "valkey-prod");
            assert.equal(
                config.clusters[0].cluster.server,
                "https://valkey-mock.hcp.eastus2.azmk8s.io:443",
            );
            const exec = config.users[0].user.exec;
            assert.equal(exec.command, "kubelogin");
            assert.equal(exec.interactiveMode, "Never");
            assert.deepEqual(exec.args, [
                "get-token",
                "--environment",
                "AzurePublicCloud",
                "--server-id",
                AKS_AAD_SERVER_ID,
                "--login",
                mode,
            ]);
            assert.ok(!JSON.stringify(config).includes("devicecode"));
        }
    });
    it("is valid JSON (and so valid YAML) with one cluster, user and context", () => {
        const text = kubeloginKubeconfig(
            {
                server: "https://s:443",
                certificateAuthorityData: "Q0E=",
                serverId: "id",
                environment: "AzurePublicCloud",
            },
            "msi",
        );
        const config = JSON.parse(text);
        assert.equal(config.kind, "Config");
        assert.equal(config.contexts[0].context.cluster, config.clusters[0].name);
        assert.equal(config.contexts[0].context.user, config.users[0].name);
    });
});
