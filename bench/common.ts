/**
 * Shared helpers of the benchmarks: timing, medians, running the reference CLI, waiting for cluster_state:ok.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { cliBinary, sleep, TestNode } from "../test/helpers/servers";

/**
 * Where the benchmarks' servers keep nodes.conf: tmpfs when the machine has one. Every cluster change rewrites
 * and fsyncs nodes.conf; on a disk shared with other jobs that fsync stalls a server for a varying while, which
 * would measure the disk, not the bootstrapper. Both contenders use the same place. `$VALKEY_TEST_DATA_ROOT`
 * overrides it.
 */
export const DATA_ROOT =
    process.env.VALKEY_TEST_DATA_ROOT ?? (fs.existsSync("/dev/shm") ? "/dev/shm" : undefined);

/** Milliseconds since `t0` (from `performance.now()`). */
export function since(t0: number): number {
    return performance.now() - t0;
}

/** The median of a list of numbers. */
export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs the reference CLI (`redis-cli`/`valkey-cli`) with arguments; rejects on a non-zero exit with its output. */
export function cli(args: string[], password?: string): Promise<string> {
    const env = { ...process.env };
    if (password) env.REDISCLI_AUTH = password;
    return new Promise((resolve, reject) => {
        const child = spawn(cliBinary(), args, { env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d.toString()));
        child.stderr.on("data", (d) => (out += d.toString()));
        child.on("close", (code) =>
            code === 0
                ? resolve(out)
                : reject(
                      new Error(
                          `${cliBinary()} ${args.join(" ")} exited ${code}:\n${out.slice(-2000)}`,
                      ),
                  ),
        );
    });
}

/**
 * Polls every node (one persistent connection each) until all report cluster_state:ok, then until every
 * replica's master_link_status is up. Resolves with the ms until each condition first held. The polling is
 * light (CLUSTER INFO every `pollMs`, default 50) because it shares the machine with what it measures.
 */
export async function waitClusterOk(
    nodes: TestNode[],
    opts: { timeoutMs?: number; password?: string; pollMs?: number } = {},
): Promise<{ okMs: number; linkedMs: number }> {
    const Redis = require("iovalkey") as typeof import("iovalkey").default;
    const t0 = performance.now();
    const clients = nodes.map(
        (n) =>
            new Redis({
                host: n.host,
                port: n.port,
                password: opts.password,
                maxRetriesPerRequest: 1,
            }),
    );
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    const poll = opts.pollMs ?? 50;
    try {
        let pending = clients;
        while (pending.length > 0) {
            const ok = await Promise.all(
                pending.map(async (c) =>
                    String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok"),
                ),
            );
            pending = pending.filter((_, i) => !ok[i]);
            if (Date.now() > deadline)
                throw new Error(`cluster not ok after ${opts.timeoutMs ?? 120_000} ms`);
            if (pending.length > 0) await sleep(poll);
        }
        const okMs = since(t0);
        pending = clients;
        while (pending.length > 0) {
            const linked = await Promise.all(
                pending.map(async (c) => {
                    const repl = String(await c.call("INFO", "replication"));
                    return !repl.includes("role:slave") || repl.includes("master_link_status:up");
                }),
            );
            pending = pending.filter((_, i) => !linked[i]);
            if (Date.now() > deadline)
                throw new Error(`replicas not linked after ${opts.timeoutMs ?? 120_000} ms`);
            if (pending.length > 0) await sleep(poll);
        }
        return { okMs, linkedMs: since(t0) };
    } finally {
        for (const c of clients) c.disconnect();
    }
}

/** Formats a ratio for the report. */
export function ratio(a: number, b: number): string {
    return (a / b).toFixed(3);
}
