/**
 * A valkey.conf change reaches the servers: Valkey reads the file only at start, so the pod template carries the
 * file's checksum and a change to it rolls the pods (issue 13: a persistence change left every server running
 * the old mode, and a memory change could restart pods before their ConfigMap had the new maxmemory).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONF_CHECKSUM_ANNOTATION, confChecksum } from "../../../components/valkey/cluster";
import { runProgram, type ProgramRun } from "../../helpers/program";

const STS = "kubernetes:apps/v1:StatefulSet";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

function checksums(run: ProgramRun): string[] {
    return run
        .ofType(STS)
        .map((s) => s.inputs.spec.template.metadata.annotations[CONF_CHECKSUM_ANNOTATION]);
}

function valkeyConf(run: ProgramRun): string {
    return run.named("valkey-conf", CONFIG_MAP).inputs.data["valkey.conf"];
}

describe("a valkey.conf change rolls the pods", () => {
    it("every StatefulSet's pod template carries the SHA-256 of the rendered valkey.conf", async () => {
        const run = await runProgram("dev");
        const conf = valkeyConf(run);
        assert.match(confChecksum(conf), /^[0-9a-f]{64}$/);
        assert.deepEqual(
            checksums(run),
            run.ofType(STS).map(() => confChecksum(conf)),
        );
    });

    for (const [setting, value, line] of [
        ["valkey:persistence", "rdb", /^appendonly no$/m],
        ["valkey:memory", "8Gi", new RegExp(`^maxmemory ${Math.floor(0.75 * 8 * 2 ** 30)}$`, "m")],
        ["valkey:nodeTimeoutMs", 15000, /^cluster-node-timeout 15000$/m],
    ] as const) {
        it(`${setting} = ${value}: a new valkey.conf and a new checksum in every pod template`, async () => {
            const before = await runProgram("dev");
            const after = await runProgram("dev", { [setting]: value });
            assert.match(valkeyConf(after), line);
            const old = checksums(before)[0];
            for (const sum of checksums(after)) {
                assert.notEqual(sum, old);
                assert.equal(sum, confChecksum(valkeyConf(after)));
            }
        });
    }

    it("a change outside valkey.conf (allowed namespaces) leaves the checksum alone", async () => {
        const before = await runProgram("dev");
        const after = await runProgram("dev", { "valkey:allowedNamespaces": ["default", "shop"] });
        assert.deepEqual(checksums(after), checksums(before));
    });
});
