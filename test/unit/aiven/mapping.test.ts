import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import {
    isIpFilterEntry,
    isOpenIpFilterEntry,
    valkeyServiceArgs,
    valkeyVersionOfImage,
} from "../../../components/aiven/mapping";

describe("Aiven mapping", () => {
    it("reads the Valkey major.minor from an image tag", () => {
        const table: [string, string | undefined][] = [
            ["valkey/valkey:8.1.4", "8.1"],
            ["valkey/valkey:9.0", "9.0"],
            ["docker.io/valkey/valkey:8.1-alpine", "8.1"],
            ["registry.example.com:5000/mirror/valkey:8.1.4@sha256:" + "a".repeat(64), "8.1"],
            ["valkey/valkey:08.01.0", "8.1"],
            ["valkey/valkey@sha256:" + "a".repeat(64), undefined],
            ["valkey/valkey:latest", undefined],
            ["valkey/valkey:unstable", undefined],
            ["redis:7.2", undefined],
            ["bitnami/valkey-cluster:8.1", undefined],
        ];
        for (const [image, v] of table) assert.equal(valkeyVersionOfImage(image), v, image);
    });

    it("accepts addresses and CIDRs, v4 and v6, and knows the open ones", () => {
        for (const ok of [
            "10.0.0.0/16",
            "203.0.113.7",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::/0",
            "::1",
        ]) {
            assert.equal(isIpFilterEntry(ok), true, ok);
        }
        for (const bad of [
            "10.0.0.0/33",
            "256.0.0.0/8",
            "10.0.0/8",
            "any",
            "::/129",
            "10.0.0.0/8/1",
            "",
        ]) {
            assert.equal(isIpFilterEntry(bad), false, bad);
        }
        assert.deepEqual(
            ["0.0.0.0/0", "::/0", "10.0.0.0/8", "0.0.0.0/00", "0.0.0.0/1"].map(isOpenIpFilterEntry),
            [true, true, false, true, false],
        );
    });

    it("builds the service from the prod defaults", () => {
        const s = resolveSettings(
            { cloud: "aiven", aiven: { project: "acme", ipFilter: ["203.0.113.0/24"] } },
            "prod",
        );
        assert.deepEqual(valkeyServiceArgs(s), {
            project: "acme",
            cloudName: "aws-us-east-1",
            plan: "business-4",
            serviceName: "valkey-prod",
            maintenanceWindowDow: "sunday",
            maintenanceWindowTime: "02:00:00",
            terminationProtection: true,
            tags: [
                { key: "valkey-platform-cluster", value: "valkey" },
                { key: "valkey-platform-environment", value: "prod" },
                { key: "valkey-platform-stack", value: "prod" },
            ],
            valkeyUserConfig: {
                ipFilterStrings: ["203.0.113.0/24"],
                valkeyMaxmemoryPolicy: "noeviction",
                valkeyPersistence: "rdb",
                valkeySsl: true,
                valkeyVersion: "8.1",
            },
        });
    });

    it("maps persistence none to off, and sets io threads, backups and contacts only when given", () => {
        const s = resolveSettings(
            {
                cloud: "aiven",
                persistence: "none",
                ioThreads: 2,
                image: "valkey/valkey:9.0.0",
                maxmemoryPolicy: "allkeys-lfu",
                aiven: {
                    project: "acme",
                    technicalEmails: ["oncall@example.com"],
                },
            },
            "dev",
        );
        const args = valkeyServiceArgs(s);
        assert.deepEqual(args.valkeyUserConfig, {
            ipFilterStrings: ["0.0.0.0/0"],
            valkeyMaxmemoryPolicy: "allkeys-lfu",
            valkeyPersistence: "off",
            valkeySsl: true,
            valkeyVersion: "9.0",
            valkeyIoThreads: 2,
        });
        assert.deepEqual(args.techEmails, [{ email: "oncall@example.com" }]);
        assert.equal(args.terminationProtection, false);
        const backups = resolveSettings(
            { cloud: "aiven", aiven: { project: "acme", backupHour: 22 } },
            "dev",
        );
        const cfg = valkeyServiceArgs(backups).valkeyUserConfig;
        assert.equal(cfg.backupHour, 22);
        assert.equal(cfg.backupMinute, 0);
        assert.equal(valkeyServiceArgs(backups).techEmails, undefined);
    });
});
