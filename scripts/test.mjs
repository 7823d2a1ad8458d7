#!/usr/bin/env node
// Runs every test suite with node's own test runner (TypeScript through tsx), in the order that keeps the
// fast feedback first: unit and policy tests, then integration tests against real server processes, then the
// engine tests (the real Pulumi CLI over the local stack). `npm test -- unit policy` runs only those suites.
// Integration suites run on valkey-server; the `redis7` suite runs the bootstrap's again on redis-server 7.
// Node 20's --test takes no globs, so the files are listed here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const suites = [
    { name: "unit", dir: "test/unit", concurrency: 2 },
    { name: "policy", dir: "test/policy", concurrency: 2 },
    // Real servers on fixed loopback ports: one file at a time.
    { name: "integration", dir: "test/integration", concurrency: 1, exclude: /^engine/ },
    // The slot bootstrap must also pass on Redis 7.0 (Debian's redis-server), which differs from Valkey 8 in how
    // slot migration states reach replicas.
    {
        name: "redis7",
        dir: "test/integration",
        concurrency: 1,
        only: /^bootstrap.*\.test\.ts$/,
        env: { VALKEY_SERVER: "redis-server" },
    },
    { name: "engine", dir: "test/integration", concurrency: 1, only: /^engine/, exclude: /daytwo/ },
    // Day two on the local Kubernetes cluster (~9 min). Under CI's deadline (VALKEY_TEST_DEADLINE, seconds since
    // the epoch, set by .ci/run) it runs only when its time is left, and says so when it is not.
    {
        name: "daytwo",
        dir: "test/integration",
        concurrency: 1,
        only: /^engine-k8s-daytwo/,
        needsSeconds: 15 * 60,
    },
];

function files(dir, suite) {
    const out = [];
    const walk = (d) => {
        let entries = [];
        try {
            entries = readdirSync(d);
        } catch {
            return;
        }
        for (const e of entries.sort()) {
            const p = join(d, e);
            if (statSync(p).isDirectory()) walk(p);
            else if (e.endsWith(".test.ts")) {
                if (suite.exclude && suite.exclude.test(e)) continue;
                if (suite.only && !suite.only.test(e)) continue;
                out.push(relative(root, p));
            }
        }
    };
    walk(join(root, dir));
    return out;
}

const wanted = process.argv.slice(2);
let failed = 0;
let ran = 0;
let passedTests = 0;
let failedTests = 0;
const tapDir = mkdtempSync(join(tmpdir(), "valkey-platform-tests-"));
for (const suite of suites) {
    if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
    const list = files(suite.dir, suite);
    if (list.length === 0) continue;
    const deadline = Number(process.env.VALKEY_TEST_DEADLINE ?? 0);
    const left = deadline > 0 ? Math.round(deadline - Date.now() / 1000) : Infinity;
    if (suite.needsSeconds && left < suite.needsSeconds && !wanted.includes(suite.name)) {
        console.log(
            `\n=== ${suite.name}: NOT RUN: ${Math.round(left / 60)} min left before the deadline, the suite needs ~${Math.round(suite.needsSeconds / 60)} (run it alone: npm test -- ${suite.name}) ===`,
        );
        continue;
    }
    console.log(`\n=== ${suite.name}: ${list.length} file(s) ===`);
    const res = spawnSync(
        process.execPath,
        [
            "--import",
            "tsx",
            "--test",
            `--test-concurrency=${suite.concurrency}`,
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
            "--test-reporter=tap",
            `--test-reporter-destination=${join(tapDir, suite.name + ".tap")}`,
            ...list,
        ],
        { cwd: root, stdio: "inherit", env: { ...process.env, ...suite.env } },
    );
    ran++;
    const tap = readFileSync(join(tapDir, suite.name + ".tap"), "utf8");
    passedTests += Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
    failedTests += Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
    if (res.status !== 0) {
        failed++;
        console.log(`=== ${suite.name}: FAILED (exit ${res.status}) ===`);
    }
}
if (ran === 0) {
    console.log("no test files found");
    process.exit(1);
}
rmSync(tapDir, { recursive: true, force: true });
console.log(`\ntotal: ${passedTests} passed, ${failedTests} failed`);
process.exit(failed === 0 && failedTests === 0 ? 0 : 1);
