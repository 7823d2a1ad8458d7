/**
 * A port-forward tunnel ends on both sides together (issue 13): when its WebSocket closes on the cluster's side,
 * the local connection is destroyed (a client sees the connection drop and reconnects, as after a TCP reset); when
 * the local connection closes, the WebSocket is closed. Real sockets on loopback, a fake WebSocket.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { bindTunnel, type TunnelSocket } from "../../../components/valkey/bootstrap/transport";

class FakeWebSocket extends EventEmitter implements TunnelSocket {
    readyState = 1;
    closed = 0;
    close(): void {
        this.closed++;
        this.readyState = 3;
        this.emit("close");
    }
}

describe("bindTunnel", () => {
    let server: net.Server;
    let accepted: Promise<net.Socket>;
    let client: net.Socket;

    beforeEach(async () => {
        server = net.createServer();
        accepted = once(server, "connection").then(([s]) => s as net.Socket);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
        client.on("error", () => undefined);
        await once(client, "connect");
    });

    afterEach(async () => {
        client.destroy();
        await new Promise((resolve) => server.close(resolve));
    });

    it("the cluster's side closing the WebSocket drops the local connection", async () => {
        const local = await accepted;
        const ws = new FakeWebSocket();
        bindTunnel(local, ws);
        const dropped = once(client, "close");
        ws.readyState = 3;
        ws.emit("close");
        await dropped;
        assert.equal(local.destroyed, true);
    });

    it("a WebSocket error drops the local connection", async () => {
        const local = await accepted;
        const ws = new FakeWebSocket();
        bindTunnel(local, ws);
        const dropped = once(client, "close");
        ws.emit("error");
        await dropped;
    });

    it("a WebSocket already closed when the tunnel opens drops the local connection at once", async () => {
        const local = await accepted;
        const ws = new FakeWebSocket();
        ws.readyState = 3;
        const dropped = once(client, "close");
        bindTunnel(local, ws);
        await dropped;
    });

    it("the local connection closing closes the WebSocket (once)", async () => {
        const local = await accepted;
        const ws = new FakeWebSocket();
        bindTunnel(local, ws);
        client.destroy();
        await once(local, "close");
        assert.equal(ws.closed, 1);
        assert.equal(ws.readyState, 3);
    });

    it("an open tunnel carries data both ways", async () => {
        const local = await accepted;
        bindTunnel(local, new FakeWebSocket());
        local.on("data", (d) => local.write(d));
        client.write("PING");
        const [reply] = await once(client, "data");
        assert.equal(String(reply), "PING");
        assert.equal(client.destroyed, false);
    });
});
