/**
 * The pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` (what the Node.js language host
 * starts for `pulumi preview --policy-pack policy`) loads policy/ through its own TypeScript support, and we
 * talk to the policy server over gRPC like the engine does: GetAnalyzerInfo, Configure with
 * policy/config.<env>.json, Analyze for each resource and AnalyzeStack. This proves the wiring without the
 * CLI.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { ROOT } from "../helpers/program";
import { aivenStack, serviceOf } from "./aivenFixtures";
import { T, awsStack, find, requirement } from "./fixtures";
import { packConfig } from "./harness";

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = (m: string): any => require(require.resolve(m, { paths: [pulumiDir] }));
const grpc = fromPulumi("@grpc/grpc-js");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"];
const LEVEL_OF: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };

const call = <T>(client: any, method: string, req: unknown): Promise<T> =>
    new Promise((resolve, reject) =>
        client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
    );

describe("the pack under Pulumi's policy runner", () => {
    let child: ChildProcess;
    let client: any;
    let stderr = "";

    before(async () => {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
        const policyDir = path.join(ROOT, "policy");
        // As the language host runs it: node <runner> <engine address> <pack dir>, in the pack's directory.
        child = spawn(process.execPath, [runner, "127.0.0.1:1", policyDir], {
            cwd: policyDir,
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) resolve(m[1]);
            });
            child.on("exit", (code) =>
                reject(new Error(`policy pack exited with ${code}: ${stderr}`)),
            );
        });
        client = new analyzerGrpc.AnalyzerClient(
            `127.0.0.1:${port}`,
            grpc.credentials.createInsecure(),
        );
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    test("serves every policy, mandatory by default, with the config schemas", async () => {
        const Empty = analyzerGrpc.AnalyzerService.getAnalyzerInfo.requestType;
        const info = await call<any>(client, "getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), "valkey-platform");
        const policies = info.getPoliciesList();
        assert.deepEqual(
            policies.map((p: any) => p.getName()).sort(),
            Object.keys(packConfig("prod")).sort(),
            "config.prod.json names every policy",
        );
        for (const p of policies) {
            assert.equal(LEVELS[p.getEnforcementlevel()], "mandatory", p.getName());
            assert.match(p.getDescription(), /^Checks that /);
        }
        const zone = policies.find((p: any) => p.getName() === "valkey-zone-separation");
        assert.equal(zone.getConfigschema().getProperties().toJavaScript().minZones.default, 3);
    });

    async function analyze(
        resources: PlainResource[],
        env: "dev" | "prod",
    ): Promise<{ policy: string; level: string; message: string }[]> {
        const req = new analyzerPb.ConfigureAnalyzerRequest();
        for (const [name, value] of Object.entries(packConfig(env))) {
            const { enforcementLevel, ...props } = value as Record<string, unknown>;
            const pc = new analyzerPb.PolicyConfig();
            pc.setEnforcementlevel(LEVEL_OF[enforcementLevel as string]);
            pc.setProperties(Struct.fromJavaScript(props));
            req.getPolicyconfigMap().set(name, pc);
        }
        await call(client, "configure", req);
        const stack = new analyzerPb.AnalyzeStackRequest();
        stack.setResourcesList(
            resources.map((r) => {
                const ar = new analyzerPb.AnalyzerResource();
                ar.setType(r.type);
                ar.setUrn(r.urn);
                ar.setName(r.name);
                ar.setProperties(Struct.fromJavaScript(r.props));
                ar.setOptions(new analyzerPb.AnalyzerResourceOptions());
                return ar;
            }),
        );
        // As the engine does: each resource through the resource policies, then the stack through the stack ones.
        const diagnostics: any[] = [];
        for (const r of resources) {
            const one = new analyzerPb.AnalyzeRequest();
            one.setType(r.type);
            one.setUrn(r.urn);
            one.setName(r.name);
            one.setProperties(Struct.fromJavaScript(r.props));
            one.setOptions(new analyzerPb.AnalyzerResourceOptions());
            diagnostics.push(...(await call<any>(client, "analyze", one)).getDiagnosticsList());
        }
        const res = await call<any>(client, "analyzeStack", stack);
        return [...diagnostics, ...res.getDiagnosticsList()].map((d: any) => ({
            policy: d.getPolicyname(),
            level: LEVELS[d.getEnforcementlevel()],
            message: d.getMessage(),
        }));
    }

    test("passes a valid stack", async () => {
        assert.deepEqual(await analyze(awsStack(), "prod"), []);
    });

    test("reports a Spot pool as mandatory in prod and advisory in dev", async () => {
        const r = awsStack();
        requirement(find(r, T.nodePool, "valkey"), "karpenter.sh/capacity-type").values = ["spot"];
        const prod = await analyze(r, "prod");
        assert.equal(prod.length, 1, JSON.stringify(prod));
        assert.equal(prod[0].policy, "valkey-no-spot");
        assert.equal(prod[0].level, "mandatory");
        assert.match(
            prod[0].message,
            /NodePool \(valkey\) must not launch Spot capacity for Valkey/,
        );
        const dev = await analyze(r, "dev");
        assert.deepEqual(
            dev.map((d) => [d.policy, d.level]),
            [["valkey-no-spot", "advisory"]],
        );
    });

    test("applies the per-stack policy config (dev lets volumes go with their claims)", async () => {
        const r = awsStack();
        find(r, T.sc, "valkey-gp3").props.reclaimPolicy = "Delete";
        assert.deepEqual(
            (await analyze(r, "prod")).map((d) => d.policy),
            ["valkey-storage-class"],
        );
        assert.deepEqual(await analyze(r, "dev"), []);
    });

    // Aiven (issue 15): the prod-only rules are mandatory in prod and disabled in dev.
    test("reports an unprotected Aiven service with an open IP filter in prod only", async () => {
        const r = aivenStack();
        serviceOf(r).props.terminationProtection = false;
        serviceOf(r).props.valkeyUserConfig.ipFilterStrings = ["0.0.0.0/0"];
        assert.deepEqual(
            (await analyze(r, "prod")).map((d) => [d.policy, d.level]),
            [
                ["valkey-aiven-termination-protection", "mandatory"],
                ["valkey-aiven-ip-filter", "mandatory"],
            ],
        );
        assert.deepEqual(await analyze(r, "dev"), []);
    });
});
