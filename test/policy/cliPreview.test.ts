/**
 * The pack under the real Pulumi engine: `pulumi preview --policy-pack policy/analyzer.sh` over a small program
 * whose slot-bootstrap resource puts 3, then 4, shards on 3 zones. The first preview passes; the second fails on
 * the mandatory zone-separation policy. Needs the engine that scripts/toolchain/install.sh builds (skipped
 * without it); no cloud and no Kubernetes provider are involved.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT } from "../helpers/program";

const cli = path.join(ROOT, ".toolchain", "bin", "pulumi");
const haveEngine = fs.existsSync(cli);

/** A program with one dynamic resource shaped like the slot bootstrap: 3 zones x 3 nodes, SHARDS shards. */
const PROGRAM = `const pulumi = require("@pulumi/pulumi");
const provider = { async create(inputs) { return { id: "slots", outs: inputs }; } };
class Slots extends pulumi.dynamic.Resource {
    constructor(name, props, opts) { super(provider, name, props, opts); }
}
const zones = ["zone-a", "zone-b", "zone-c"];
const nodes = zones.flatMap((zone, z) => [0, 1, 2].map((i) => ({ id: zone + "-" + i, host: "127.0.0.1", port: 7000 + 10 * z + i, zone })));
new Slots("valkey-slots", { shards: Number(process.env.SHARDS), replicasPerShard: 2, nodes });
`;

function run(
    dir: string,
    script: string,
    env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(
            "bash",
            [
                "-c",
                `. "${ROOT}/scripts/toolchain/env.sh" && export PULUMI_BACKEND_URL="file://${dir}/state" && cd "${dir}/proj" && ${script}`,
            ],
            {
                env: { ...process.env, ...env },
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("exit", (code) => resolve({ code, out }));
    });
}

describe(
    "the pack under the real Pulumi engine",
    { skip: haveEngine ? false : "no engine in .toolchain/bin (scripts/toolchain/install.sh)" },
    () => {
        let dir: string;
        before(async () => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "valkey-policy-cli-"));
            fs.mkdirSync(path.join(dir, "proj"));
            fs.mkdirSync(path.join(dir, "state"));
            fs.writeFileSync(
                path.join(dir, "proj", "Pulumi.yaml"),
                "name: policy-probe\nruntime: nodejs\nmain: index.js\n",
            );
            fs.writeFileSync(
                path.join(dir, "proj", "package.json"),
                '{ "name": "policy-probe", "private": true }\n',
            );
            fs.writeFileSync(path.join(dir, "proj", "index.js"), PROGRAM);
            fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "proj", "node_modules"));
            const init = await run(dir, "pulumi stack init probe --non-interactive");
            assert.equal(init.code, 0, init.out);
        });
        after(() => {
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        const preview = (shards: number) =>
            run(
                dir,
                `pulumi preview --non-interactive -s probe --policy-pack "${ROOT}/policy/analyzer.sh" --policy-pack-config "${ROOT}/policy/config.prod.json"`,
                { SHARDS: String(shards) },
            );

        test("3 shards over 3 zones: the preview passes", { timeout: 300_000 }, async () => {
            const { code, out } = await preview(3);
            assert.equal(code, 0, out);
            assert.doesNotMatch(out, /valkey-zone-separation/);
        });

        test(
            "4 shards over 3 zones: the mandatory zone-separation policy fails the preview",
            { timeout: 300_000 },
            async () => {
                const { code, out } = await preview(4);
                assert.notEqual(code, 0, out);
                assert.match(out, /\[mandatory\]\s+valkey-zone-separation/);
                assert.match(
                    out,
                    /Slot bootstrap \(valkey-slots\) must keep a failover majority after the loss of any one zone: zone zone-a holds 2 of 4 primaries, and the survivors could not elect replacements\. Use 3, 5 or 6 shards, or 4 zones/,
                );
            },
        );
    },
);
