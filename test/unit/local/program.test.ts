import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ROOT, runProgram, type ProgramRun } from "../../helpers/program";

/**
 * The whole program for the local stack under mocks: index.ts routes `cloud: local` to LocalValkeyCluster and
 * nothing of Kubernetes or a cloud is created. Skipped while index.ts does not route the local cloud yet.
 */

const SERVER = "pulumi-nodejs:dynamic/local:ValkeyServer";
const COMPONENT = "valkey-platform:local:LocalValkeyCluster";

async function runLocal(t: { skip(reason: string): void }): Promise<ProgramRun | undefined> {
    try {
        return await runProgram("local", { "valkey:local": { serverBinary: "redis-server" } });
    } catch (e) {
        if (/"local" is not available yet/.test((e as Error).message)) {
            t.skip("index.ts does not route cloud local to LocalValkeyCluster yet");
            return undefined;
        }
        throw e;
    }
}

describe("pulumi up -s local (under mocks)", () => {
    it("builds one LocalValkeyCluster with a server per pod, and nothing else of a platform", async (t) => {
        const run = await runLocal(t);
        if (!run) return;
        assert.deepEqual(
            run.ofType(COMPONENT).map((r) => r.name),
            ["valkey"],
        );
        const servers = run.ofType(SERVER);
        assert.equal(servers.length, 6);
        for (const s of servers) {
            assert.equal(path.dirname(s.inputs.dataDir), path.join(ROOT, ".local-data"));
        }
        const platformTypes = run.resources
            .map((r) => r.type)
            .filter((type) => /^(kubernetes|aws|azure-native|eks):/.test(type));
        assert.deepEqual(platformTypes, []);
    });
});
