/**
 * Shared helpers of the benchmarks: timing, medians, running the reference CLI, waiting for cluster_state:ok.
 */
import { spawn } from "node:child_process";
import { cliBinary, sleep, TestNode } from "../test/helpers/servers";

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
 * Polls every node (one persistent connection each) until all report cluster_state:ok and, with `linked`,
 * every replica's master_link_status is up. Resolves with the ms until each condition first held.
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
    let okMs = -1;
    try {
        for (;;) {
            const states = await Promise.all(
                clients.map(async (c) => {
                    const [[, info], [, repl]] = (await c
                        .pipeline()
                        .call("CLUSTER", "INFO")
                        .call("INFO", "replication")
                        .exec()) as [unknown, string][];
                    const ok = String(info).includes("cluster_state:ok");
                    const linked =
                        !String(repl).includes("role:slave") ||
                        String(repl).includes("master_link_status:up");
                    return { ok, linked };
                }),
            );
            if (okMs < 0 && states.every((s) => s.ok)) okMs = since(t0);
            if (okMs >= 0 && states.every((s) => s.ok && s.linked))
                return { okMs, linkedMs: since(t0) };
            if (Date.now() > deadline)
                throw new Error(`cluster not ok after ${opts.timeoutMs ?? 120_000} ms`);
            await sleep(opts.pollMs ?? 10);
        }
    } finally {
        for (const c of clients) c.disconnect();
    }
}

/** Formats a ratio for the report. */
export function ratio(a: number, b: number): string {
    return (a / b).toFixed(3);
}
