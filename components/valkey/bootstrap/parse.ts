/**
 * Pure parsers for what a node says about the cluster: `CLUSTER NODES`, `CLUSTER INFO` and `INFO`.
 * The formats are the ones both Redis >= 7.0 and Valkey >= 7.2 print.
 */
import { SlotRange } from "./slots";

/** One line of `CLUSTER NODES`: what one node believes about one node (itself included). */
export interface ClusterNodeEntry {
    /** The Valkey node id (40 hex characters). */
    id: string;
    /** The IP the viewing node has for it; empty for a fresh node's own line. */
    ip: string;
    port: number;
    busPort: number;
    /** The announced hostname, when the address field carries one. */
    hostname?: string;
    flags: string[];
    myself: boolean;
    master: boolean;
    replica: boolean;
    /** Flagged `fail` (agreed failure) or `fail?` (suspected by this viewer). */
    failed: boolean;
    suspected: boolean;
    handshake: boolean;
    noaddr: boolean;
    /** The id of its primary when it is a replica. */
    masterId?: string;
    configEpoch: number;
    /** When the viewer sent the ping it still waits an answer for (ms since the epoch, its clock); 0 if none. */
    pingSent: number;
    /** When the viewer last received a pong from it (ms since the epoch, its clock). */
    pongReceived: number;
    connected: boolean;
    /** Slots it owns, as this viewer believes. */
    slots: SlotRange[];
    /** Only on the viewer's own line: slots it is importing, and from which node id. */
    importing: { slot: number; from: string }[];
    /** Only on the viewer's own line: slots it is migrating, and to which node id. */
    migrating: { slot: number; to: string }[];
}

/** Parses the output of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeEntry[] {
    const out: ClusterNodeEntry[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "") continue;
        const f = line.split(" ");
        if (f.length < 8) throw new Error(`unexpected CLUSTER NODES line: ${line}`);
        const [id, address, flagText, master, pingSent, pongReceived, epoch, link, ...slotFields] =
            f;
        // ip:port@cport[,hostname[,aux=value...]]
        const [endpoint, hostname] = address.split(",");
        const at = endpoint.lastIndexOf("@");
        const hostPort = at >= 0 ? endpoint.slice(0, at) : endpoint;
        const colon = hostPort.lastIndexOf(":");
        const flags = flagText.split(",");
        const entry: ClusterNodeEntry = {
            id,
            ip: hostPort.slice(0, colon),
            port: Number(hostPort.slice(colon + 1)),
            busPort: at >= 0 ? Number(endpoint.slice(at + 1)) : 0,
            hostname: hostname && !hostname.includes("=") ? hostname : undefined,
            flags,
            myself: flags.includes("myself"),
            master: flags.includes("master"),
            replica: flags.includes("slave"),
            failed: flags.includes("fail"),
            suspected: flags.includes("fail?"),
            handshake: flags.includes("handshake"),
            noaddr: flags.includes("noaddr"),
            masterId: master === "-" ? undefined : master,
            configEpoch: Number(epoch),
            pingSent: Number(pingSent),
            pongReceived: Number(pongReceived),
            connected: link === "connected",
            slots: [],
            importing: [],
            migrating: [],
        };
        for (const s of slotFields) {
            if (s.startsWith("[")) {
                const body = s.slice(1, -1);
                const mig = body.indexOf("->-");
                const imp = body.indexOf("-<-");
                if (mig >= 0)
                    entry.migrating.push({
                        slot: Number(body.slice(0, mig)),
                        to: body.slice(mig + 3),
                    });
                else if (imp >= 0)
                    entry.importing.push({
                        slot: Number(body.slice(0, imp)),
                        from: body.slice(imp + 3),
                    });
                continue;
            }
            const dash = s.indexOf("-");
            entry.slots.push(
                dash >= 0
                    ? [Number(s.slice(0, dash)), Number(s.slice(dash + 1))]
                    : [Number(s), Number(s)],
            );
        }
        out.push(entry);
    }
    return out;
}

/** Parses `key:value` lines of `INFO` or `CLUSTER INFO` (section headers and blank lines are skipped). */
export function parseInfo(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const colon = line.indexOf(":");
        if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1);
    }
    return out;
}
