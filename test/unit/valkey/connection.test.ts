import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    CONNECTION_KEYS,
    connectionSecretName,
    connectionStringData,
} from "../../../components/valkey/connection";

describe("the connection Secret", () => {
    it("is named <name>-connection", () => {
        assert.equal(connectionSecretName("valkey"), "valkey-connection");
    });

    it("holds the six keys, numbers and flags as strings", () => {
        const data = connectionStringData({
            host: "valkey.valkey.svc.cluster.local",
            port: 6379,
            user: "default",
            password: "pw",
            ssl: false,
            cluster: true,
        });
        assert.deepEqual(data, {
            VALKEY_HOST: "valkey.valkey.svc.cluster.local",
            VALKEY_PORT: "6379",
            VALKEY_USER: "default",
            VALKEY_PASSWORD: "pw",
            VALKEY_SSL: "false",
            VALKEY_CLUSTER: "true",
        });
        assert.deepEqual(Object.keys(data), [...CONNECTION_KEYS]);
    });

    it("passes values known only at deploy time through unchanged", () => {
        const host = { deployTime: "host" };
        const port = { deployTime: "port" };
        const data = connectionStringData({
            host,
            port,
            user: host,
            password: host,
            ssl: true,
            cluster: false,
        });
        assert.equal(data.VALKEY_HOST, host);
        assert.equal(data.VALKEY_PORT, port);
        assert.equal(data.VALKEY_SSL, "true");
        assert.equal(data.VALKEY_CLUSTER, "false");
    });
});
