/**
 * Runs Prometheus' `promtool` (built by scripts/toolchain/install.sh into .toolchain/bin) on files the tests write:
 * `check rules` and `test rules`. A missing promtool fails the test with the command that builds it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ROOT } from "./program";

/** Where install.sh puts promtool. */
export const PROMTOOL = path.join(ROOT, ".toolchain", "bin", "promtool");

/** What one promtool run printed. */
export interface PromtoolResult {
    status: number | null;
    output: string;
}

/** The path of promtool; throws a clear error when it has not been built. */
export function promtoolPath(): string {
    if (!fs.existsSync(PROMTOOL)) {
        throw new Error(
            "promtool is missing at .toolchain/bin/promtool: build it with `bash scripts/toolchain/install.sh` " +
                "(CI runs it before the tests).",
        );
    }
    return PROMTOOL;
}

/** Runs promtool with `args` in `cwd`. */
export function promtool(args: string[], cwd: string): PromtoolResult {
    const res = spawnSync(promtoolPath(), args, { cwd, encoding: "utf8", timeout: 120_000 });
    if (res.error) throw res.error;
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** A fresh temporary folder for one test's files, removed by `done`. */
export function workDir(prefix: string): {
    dir: string;
    write(name: string, doc: unknown): string;
    done(): void;
} {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `valkey-platform-${prefix}-`));
    return {
        dir,
        write(name, doc) {
            const file = path.join(dir, name);
            fs.writeFileSync(
                file,
                typeof doc === "string" ? doc : yaml.dump(doc, { lineWidth: -1, noRefs: true }),
            );
            return file;
        },
        done() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
